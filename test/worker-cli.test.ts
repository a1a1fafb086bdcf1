import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('bin/ascend server worker-token', () => {
  it('prints a worker token once, lists it by id and prefix only, and revokes it', async () => {
    const data = mkdtempSync(join(tmpdir(), 'ascend-wtok-'));
    dirs.push(data);
    const made = await runCli(['server', 'worker-token', '--data', data, '--name', 'mac-mini-1']);
    expect(made.code, made.stderr).toBe(0);
    const token = made.stdout.trim();
    expect(token).toMatch(/^ascw_[a-z2-7]{52}$/);
    expect(made.stderr).toMatch(/shown once/);
    const listed = await runCli(['server', 'worker-token', '--data', data, '--list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const [info] = JSON.parse(listed.stdout).data;
    expect(info).toMatchObject({ name: 'mac-mini-1', prefix: token.slice(0, 11), revokedAt: null });
    expect(listed.stdout).not.toContain(token);
    const revoked = await runCli(['server', 'worker-token', '--data', data, '--revoke', info.id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const after = JSON.parse((await runCli(['server', 'worker-token', '--data', data, '--list', '--json'])).stdout);
    expect(after.data[0].revokedAt).not.toBeNull();
    const unknown = await runCli(['server', 'worker-token', '--data', data, '--revoke', 'wtk_nope']);
    expect(unknown.code).toBe(4);
  });
});

describe('bin/ascend worker: flags', () => {
  const base = ['worker', '--database-url', 'postgres://localhost/x', '--server', 'http://127.0.0.1:9'];
  it.each([
    [['--token', 'asc_teamtoken'], 3, /not a worker token/],
    [['--token', '@env:NOPE'], 2, /variable is not set/],
    [['--token', 'ascw_x', '--concurrency', '0'], 2, /--concurrency 0 is not a whole number from 1 to 64/],
    [['--token', 'ascw_x', '--labels', 'Mac OS'], 2, /--labels Mac OS: labels are/],
    [['--token', 'ascw_x', '--labels', 'a,b,c,d,e,f,g'], 2, /labels are up to 6 words/],
  ])('refuses %j with one line and exit %i', async (extra, code, message) => {
    const r = await runCli([...base, ...extra]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('takes the database URL from a variable (@env:VAR), checked like a flag, never echoed', async () => {
    const env = { ASCEND_DB: 'sqlite:secret-password@x.db' };
    const r = await runCli(
      ['worker', '--database-url', '@env:ASCEND_DB', '--server', 'http://x', '--token', 'ascw_x'],
      {
        env,
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--database-url must be a/);
    expect(r.stderr).not.toContain('secret-password');
    const unset = await runCli(['worker', '--database-url', '@env:NOPE', '--server', 'http://x', '--token', 'ascw_x']);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/--database-url @env:NOPE: the variable is not set/);
  });

  it('refuses a database URL that is not PostgreSQL and an unreachable server with one line each', async () => {
    const sqlite = await runCli([
      'worker',
      '--database-url',
      'sqlite:x.db',
      '--server',
      'http://x',
      '--token',
      'ascw_x',
    ]);
    expect(sqlite.code).toBe(2);
    expect(sqlite.stderr).toMatch(/--database-url must be a postgres:\/\/ URL/);
    const away = await runCli([...base, '--token', 'ascw_x']);
    expect(away.code).toBe(9);
    expect(away.stderr).toMatch(/the server at http:\/\/127\.0\.0\.1:9 cannot be reached/);
  });
});
