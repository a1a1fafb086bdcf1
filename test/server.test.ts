import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, runCli, tempEnv } from './helpers/cli.js';

/** Resolves with the first `count` stdout lines of a process, or rejects when it ends before printing them. */
function firstLines(child: ChildProcessWithoutNullStreams, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdout.on('data', (d) => {
      out += d;
      const lines = out.split('\n');
      if (lines.length > count) resolve(lines.slice(0, count));
    });
    child.on('close', (code) => reject(new Error(`server exited ${code} before printing: ${err}`)));
  });
}

describe('ascend server start --sandbox, as a real process, with ascend push --follow', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ascend-server-e2e-'));
  let child: ChildProcessWithoutNullStreams | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the two fixed lines, signs in by the link, deploys the sample with push, stops on SIGINT', async () => {
    const data = join(dir, 'data');
    const tokenFile = join(dir, 'admin.token');
    child = spawn(
      process.execPath,
      [BIN, 'server', 'start', '--sandbox', '--port', '0', '--data', data, '--write-admin-token', tokenFile],
      { env: { PATH: process.env.PATH ?? '', ...tempEnv(), HOME: dir }, cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const [serverLine, signInLine] = await firstLines(child, 2);
    expect(serverLine).toMatch(/^ascend server: http:\/\/127\.0\.0\.1:\d+$/);
    expect(signInLine).toMatch(/^Sign in: http:\/\/127\.0\.0\.1:\d+\/sign-in\/\S+$/);
    const url = serverLine!.slice('ascend server: '.length);
    const link = signInLine!.slice('Sign in: '.length);

    // The link signs the browser in once: a session cookie and a redirect to the dashboard.
    const signIn = await fetch(link, { redirect: 'manual' });
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/');
    const cookie = signIn.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const session = await fetch(`${url}/api/v1/session`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(session.status).toBe(200);
    expect(((await session.json()) as { teams: { role: string }[] }).teams[0]!.role).toBe('owner');
    // Where the link lands: the dashboard's page (its scripts from this origin only), never a 404.
    const home = await fetch(`${url}/`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(home.status).toBe(200);
    expect(home.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    expect(await home.text()).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(401);

    // The sandbox files: the sample .ipa and a second key the vault does not hold yet, owner-only.
    const sandbox = join(data, 'sandbox');
    const files = readdirSync(sandbox);
    expect(files).toContain('Sample.ipa');
    expect(files).toContain('key.json');
    const p8 = files.find((f) => /^AuthKey_[A-Z0-9]{10}\.p8$/.test(f));
    expect(p8).toBeDefined();
    expect(statSync(join(sandbox, p8!)).mode & 0o777).toBe(0o600);
    expect(statSync(join(data, 'master.key')).mode & 0o777).toBe(0o600);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);

    const token = readFileSync(tokenFile, 'utf8').trim();
    const push = await runCli(
      [
        'push',
        join(sandbox, 'Sample.ipa'),
        '--server',
        url,
        '--token',
        '@env:ASCEND_TOKEN',
        '--group',
        'External Testers',
        '--whats-new',
        'Sandbox build',
        '--follow',
      ],
      { env: { ASCEND_TOKEN: token } },
    );
    expect(push.stderr).not.toContain(token);
    expect(push.code, push.stderr).toBe(0);
    // Not a terminal: one JSON document, as `ascend deploy` prints it there.
    expect(JSON.parse(push.stdout)).toMatchObject({ deploy: expect.stringMatching(/^dep_/), state: 'succeeded' });

    // A hostile file is refused by the server with the CLI's own code and exit code, and nothing is deployed.
    const garbage = join(dir, 'garbage.ipa');
    writeFileSync(garbage, randomBytes(8192));
    const refused = await runCli(['push', garbage, '--server', url, '--token', '@env:ASCEND_TOKEN', '--follow'], {
      env: { ASCEND_TOKEN: token },
    });
    expect(refused.code).toBe(6);
    expect(JSON.parse(refused.stdout).error.code).toBe('IPA_NOT_ZIP');

    const exited = new Promise<number | null>((r) => child!.on('close', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // Once stopped, a push is a network error with its exit code, not a bug.
    const gone = await runCli(['push', garbage, '--server', url, '--token', 'x']);
    expect(gone.code).toBe(9);
    expect(JSON.parse(gone.stdout).error.code).toBe('NETWORK_ERROR');
    // Nothing secret in what the server wrote: its log and its database.
    const key = readFileSync(join(sandbox, p8!), 'utf8').split('\n')[1]!;
    for (const f of ['server.log', 'ascend.db']) {
      const text = readFileSync(join(data, f)).toString('latin1');
      expect(text).not.toContain(key);
      expect(text).not.toContain(token);
      expect(text).not.toMatch(/eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/);
    }
  }, 120_000);

  it('a port already taken is PORT_IN_USE with its exit code and remedy, no stack', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = String((blocker.address() as { port: number }).port);
    try {
      const r = await runCli(['server', 'start', '--port', port, '--data', join(dir, 'busy')]);
      expect(r.code).toBe(5);
      // Not a terminal: the error is one JSON document, with the code, remedy and exit code.
      expect(JSON.parse(r.stdout).error).toEqual({
        code: 'PORT_IN_USE',
        message: `port ${port} on 127.0.0.1 is already in use`,
        remedy: 'Stop what listens on that port, or start the server on another one with --port.',
        exitCode: 5,
      });
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
