import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTeam } from './accounts/teams.js';
import { openServerStorage } from './storage.js';
import { systemDeps } from './store/ids.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ascend-storage-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('server storage start-up', () => {
  it('first start makes the master key (0600) and the database; the next start opens the same secrets', async () => {
    const first = await openServerStorage({ dataDir: dir, createMasterKey: true });
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ascend.db')).mode & 0o777).toBe(0o600);
    expect(first.store.dialect).toBe('sqlite');
    const team = await createTeam(first.store, systemDeps, 'T');
    const id = await first.vault.seal(team.id, 'webhook-secret', 'whsec');
    await first.close();
    const again = await openServerStorage({ dataDir: dir, createMasterKey: false });
    try {
      expect((await again.vault.open(team.id, id)).toString()).toBe('whsec');
    } finally {
      await again.close();
    }
  });

  it('a fresh data directory is created; a different master key than the secrets’ stops start-up', async () => {
    const nested = join(dir, 'a', 'b');
    const first = await openServerStorage({ dataDir: nested, createMasterKey: true });
    const team = await createTeam(first.store, systemDeps, 'T');
    await first.vault.seal(team.id, 'webhook-secret', 'whsec');
    await first.close();
    const other = Buffer.alloc(32, 5).toString('base64');
    await expect(openServerStorage({ dataDir: nested, masterKey: other, createMasterKey: true })).rejects.toMatchObject(
      {
        code: 'VAULT_KEY_UNKNOWN',
      },
    );
    // With the file's key as the previous one (a rotation in progress) it starts.
    const fileKey = readFileSync(join(nested, 'master.key'), 'utf8');
    const rotating = await openServerStorage({
      dataDir: nested,
      masterKey: other,
      previousMasterKey: fileKey,
      createMasterKey: false,
    });
    await rotating.close();
  });

  it('a bad master key stops start-up before any database is created', async () => {
    await expect(openServerStorage({ dataDir: dir, masterKey: 'short', createMasterKey: true })).rejects.toMatchObject({
      code: 'MASTER_KEY_INVALID',
    });
    expect(existsSync(join(dir, 'ascend.db'))).toBe(false);
  });

  it('a worker without the key does not invent one', async () => {
    await expect(openServerStorage({ dataDir: dir, createMasterKey: false })).rejects.toMatchObject({
      code: 'MASTER_KEY_INVALID',
    });
    expect(existsSync(join(dir, 'master.key'))).toBe(false);
  });

  it('a database from a newer ascend is refused at start', async () => {
    const s = await openServerStorage({ dataDir: dir, createMasterKey: true });
    await sql`insert into kysely_migration (name, timestamp) values ('2999-01-01-001-next', 'x')`.execute(s.store.db);
    await s.close();
    await expect(openServerStorage({ dataDir: dir, createMasterKey: true })).rejects.toMatchObject({
      code: 'DATABASE_SCHEMA_NEWER',
    });
  });
});
