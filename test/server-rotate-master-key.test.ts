import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createTeam } from '../src/server/accounts/teams.js';
import { openServerStorage } from '../src/server/storage.js';
import { systemDeps } from '../src/server/store/ids.js';
import { describeStores } from '../src/server/store/testing/dialects.js';
import { readMasterKeyFile } from '../src/server/vault/master-key.js';
import { Vault } from '../src/server/vault/vault.js';
import { runCli } from './helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describeStores('bin/ascend server rotate-master-key', (ctx) => {
  it('re-wraps the secrets of a server’s data; they open after a restart, not with the old key alone', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ascend-rotate-cli-'));
    dirs.push(dataDir);
    let databaseUrl: string | undefined;
    if (ctx.dialect === 'postgres') {
      const loc = await ctx.freshLocation();
      if (loc.dialect !== 'postgres') throw new Error('expected PostgreSQL');
      const url = new URL(loc.url);
      url.searchParams.set('schema', loc.schema!);
      databaseUrl = url.toString();
    }
    const open = () => openServerStorage({ dataDir, databaseUrl, createMasterKey: true });
    const before = await open();
    const team = await createTeam(before.store, before.deps, 'Rotation');
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await before.vault.seal(team.id, 'webhook-secret', `secret-${i}`));
    const oldKey = before.keyring.current;
    await before.close();
    const oldText = readFileSync(join(dataDir, 'master.key'), 'utf8').trim();

    const args = ['server', 'rotate-master-key', '--data', dataDir, '--batch-size', '2'];
    const r = await runCli(databaseUrl ? [...args, '--database-url', databaseUrl] : args);
    expect(r.stderr).not.toContain('Error');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^master key rotated: 5 secret\(s\) re-wrapped, mk_\w+ → mk_\w+\n$/);
    const newText = readFileSync(join(dataDir, 'master.key'), 'utf8').trim();
    for (const text of [oldText, newText]) expect(r.stdout + r.stderr).not.toContain(text);

    const after = await open();
    try {
      expect(after.keyring.current.id).toBe((await readMasterKeyFile(join(dataDir, 'master.key')))!.id);
      for (const [i, id] of ids.entries()) expect((await after.vault.open(team.id, id)).toString()).toBe(`secret-${i}`);
      const oldOnly = new Vault(after.store, { current: oldKey }, systemDeps);
      await expect(oldOnly.open(team.id, ids[0]!)).rejects.toMatchObject({ code: 'VAULT_KEY_UNKNOWN' });
    } finally {
      await after.close();
    }
  });

  it('a bad --batch-size is one line with USAGE and exit 2, and nothing is touched', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ascend-rotate-cli-'));
    dirs.push(dataDir);
    const r = await runCli(['server', 'rotate-master-key', '--data', dataDir, '--batch-size', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ascend: --batch-size 0 .*\[USAGE\]/);
    expect(await readMasterKeyFile(join(dataDir, 'master.key.next'))).toBeUndefined();
  });
});
