import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { createTeam } from '../accounts/teams.js';
import type { StoreDeps } from '../store/ids.js';
import { addKey, getKey, listKeys, openKey, removeKey } from '../store/keys.js';
import { migrate } from '../store/migrate.js';
import { openStore, type Store } from '../store/open.js';
import { describeStores } from '../store/testing/dialects.js';
import { masterKeyOf } from './master-key.js';
import { rotateMasterKey, Vault } from './vault.js';

const deps: StoreDeps = { clock: new FakeClock(), randomBytes: (n) => randomBytes(n) };
const m1 = masterKeyOf(randomBytes(32));
const m2 = masterKeyOf(randomBytes(32));

function p8(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();
}
const KEY = { name: 'CI key', keyId: 'ABCDE12345', issuerId: '69a6de70-03db-47e3-e053-5b8c7c11a4d1' };

describeStores('vault', (ctx) => {
  it('seals and opens; another team’s id is not found', async () => {
    const s = ctx.store();
    const [a, b] = [await createTeam(s, deps, 'A'), await createTeam(s, deps, 'B')];
    const vault = new Vault(s, { current: m1 }, deps);
    const id = await vault.seal(a.id, 'webhook-secret', 'hush');
    expect((await vault.open(a.id, id)).toString()).toBe('hush');
    await expect(vault.open(b.id, id)).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    expect(await vault.delete(b.id, id)).toBe(false);
    expect(await vault.delete(a.id, id)).toBe(true);
    await expect(vault.open(a.id, id)).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
  });

  it('an envelope copied into another row (same team, or another team) fails to open', async () => {
    const s = ctx.store();
    const [a, b] = [await createTeam(s, deps, 'A'), await createTeam(s, deps, 'B')];
    const vault = new Vault(s, { current: m1 }, deps);
    const real = await vault.seal(a.id, 'asc-private-key', 'the real secret');
    const decoyA = await vault.seal(a.id, 'asc-private-key', 'decoy');
    const decoyB = await vault.seal(b.id, 'asc-private-key', 'decoy');
    const src = await s.db.selectFrom('secrets').selectAll().where('id', '=', real).executeTakeFirstOrThrow();
    for (const [team, target] of [
      [a.id, decoyA],
      [b.id, decoyB],
    ] as const) {
      await s.db
        .updateTable('secrets')
        .set({ master_key_id: src.master_key_id, wrapped_key: src.wrapped_key, ciphertext: src.ciphertext })
        .where('id', '=', target)
        .execute();
      await expect(vault.open(team, target)).rejects.toMatchObject({ code: 'VAULT_SECRET_DAMAGED' });
    }
  });

  it('a changed byte in the stored row is detected; a wrong master key is named', async () => {
    const s = ctx.store();
    const team = await createTeam(s, deps, 'T');
    const vault = new Vault(s, { current: m1 }, deps);
    const id = await vault.seal(team.id, 'signing-key', 'sign me');
    const row = await s.db.selectFrom('secrets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const raw = Buffer.from(row.ciphertext.slice(3), 'base64');
    raw[raw.length - 1]! ^= 0x80;
    await s.db
      .updateTable('secrets')
      .set({ ciphertext: `v1.${raw.toString('base64')}` })
      .where('id', '=', id)
      .execute();
    await expect(vault.open(team.id, id)).rejects.toMatchObject({ code: 'VAULT_SECRET_DAMAGED' });
    const other = await vault.seal(team.id, 'signing-key', 'fine');
    await expect(new Vault(s, { current: m2 }, deps).open(team.id, other)).rejects.toMatchObject({
      code: 'VAULT_KEY_UNKNOWN',
    });
  });

  it('rotation re-wraps every data key in batches, payloads untouched, both keys accepted meanwhile', async () => {
    const s = ctx.store();
    const team = await createTeam(s, deps, 'Rotating');
    const old = new Vault(s, { current: m1 }, deps);
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(await old.seal(team.id, 'webhook-secret', `secret-${i}`));
    const before = await s.db
      .selectFrom('secrets')
      .select(['id', 'ciphertext'])
      .where('team_id', '=', team.id)
      .execute();
    // The server during rotation: new key current, old key previous.
    const during = new Vault(s, { current: m2, previous: [m1] }, deps);
    const batches: number[] = [];
    const rotation = rotateMasterKey(s, m1, m2, deps, { batchSize: 10, onBatch: (n) => batches.push(n) });
    const reads = Promise.all(ids.map((id) => during.open(team.id, id)));
    const [result, opened] = await Promise.all([rotation, reads]);
    expect(opened.map((b) => b.toString())).toEqual(ids.map((_, i) => `secret-${i}`));
    // Rows damaged by the tests above are reported and left alone; none of this team's.
    expect(result.failed.filter((id) => ids.includes(id))).toEqual([]);
    expect(result.rewrapped).toBeGreaterThanOrEqual(25);
    expect(batches.length).toBeGreaterThanOrEqual(3);
    const after = await s.db
      .selectFrom('secrets')
      .select(['id', 'ciphertext', 'master_key_id'])
      .where('team_id', '=', team.id)
      .execute();
    expect(after.every((r) => r.master_key_id === m2.id)).toBe(true);
    expect(new Map(after.map((r) => [r.id, r.ciphertext]))).toEqual(new Map(before.map((r) => [r.id, r.ciphertext])));
    const onlyNew = new Vault(s, { current: m2 }, deps);
    expect((await onlyNew.open(team.id, ids[7]!)).toString()).toBe('secret-7');
    await expect(old.open(team.id, ids[7]!)).rejects.toMatchObject({ code: 'VAULT_KEY_UNKNOWN' });
    // Running it again finds nothing left.
    expect(await rotateMasterKey(s, m1, m2, deps)).toEqual({ rewrapped: 0, failed: result.failed });
  });

  it('keys: metadata and fingerprint out, the .p8 only through the vault, scoped by team', async () => {
    const s = ctx.store();
    const [a, b] = [await createTeam(s, deps, 'A'), await createTeam(s, deps, 'B')];
    const vault = new Vault(s, { current: m1 }, deps);
    const pem = p8();
    const key = await addKey(s, vault, deps, a.id, { ...KEY, privateKey: pem });
    expect(key).toMatchObject({ name: 'CI key', keyId: KEY.keyId, issuerId: KEY.issuerId, individual: false });
    expect(key.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(JSON.stringify(await listKeys(s, a.id))).not.toContain('PRIVATE');
    expect((await openKey(s, vault, a.id, key.id)).privateKeyPem).toBe(pem);
    await expect(getKey(s, b.id, key.id)).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    await expect(openKey(s, vault, b.id, key.id)).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    const secretsBefore = await s.db.selectFrom('secrets').select('id').where('team_id', '=', a.id).execute();
    await expect(addKey(s, vault, deps, a.id, { ...KEY, privateKey: p8() })).rejects.toMatchObject({
      code: 'RESOURCE_EXISTS',
    });
    await expect(addKey(s, vault, deps, a.id, { ...KEY, name: 'x', privateKey: 'nope' })).rejects.toMatchObject({
      code: 'KEY_NOT_PEM',
    });
    const secretsAfter = await s.db.selectFrom('secrets').select('id').where('team_id', '=', a.id).execute();
    expect(secretsAfter).toHaveLength(secretsBefore.length);
    await removeKey(s, vault, a.id, key.id);
    expect(await listKeys(s, a.id)).toEqual([]);
    expect(await s.db.selectFrom('secrets').select('id').where('team_id', '=', a.id).execute()).toHaveLength(
      secretsBefore.length - 1,
    );
  });
});

describe('the .p8 at rest (SQLite file bytes)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function fileWith(write: (s: Store, teamId: string, pem: string) => Promise<void>) {
    const dir = mkdtempSync(join(tmpdir(), 'ascend-vault-'));
    dirs.push(dir);
    const path = join(dir, 'ascend.db');
    const s = await openStore({ dialect: 'sqlite', path });
    await migrate(s);
    const team = await createTeam(s, deps, 'Raw');
    const pem = p8();
    await write(s, team.id, pem);
    await s.close();
    const bytes = Buffer.concat(
      [path, `${path}-wal`, `${path}-journal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)),
    );
    return { bytes, pem };
  }

  function leaks(bytes: Buffer, pem: string): string[] {
    const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    const needles: [string, Buffer][] = [
      ['PEM header', Buffer.from('BEGIN PRIVATE KEY')],
      ['base64 body', Buffer.from(body)],
      ['DER', Buffer.from(body, 'base64')],
      ...pem
        .split('\n')
        .filter((l) => l.length >= 32 && !l.startsWith('-----'))
        .map((l, i): [string, Buffer] => [`body line ${i}`, Buffer.from(l)]),
    ];
    return needles.filter(([, n]) => bytes.includes(n)).map(([what]) => what);
  }

  it('neither the PEM, its base64 body, any body line nor its DER appears in the database file', async () => {
    const { bytes, pem } = await fileWith(async (s, teamId, pem) => {
      await addKey(s, new Vault(s, { current: m1 }, deps), deps, teamId, { ...KEY, privateKey: pem });
    });
    expect(bytes.length).toBeGreaterThan(4096);
    expect(leaks(bytes, pem)).toEqual([]);
  });

  it('the same search finds a key stored in plain text (the check can fail)', async () => {
    const { bytes, pem } = await fileWith(async (s, teamId, pem) => {
      await s.db.insertInto('settings').values({ team_id: teamId, key: 'oops', value: pem, updated_at: 'x' }).execute();
    });
    expect(leaks(bytes, pem)).toEqual(expect.arrayContaining(['PEM header', 'body line 0', 'body line 1']));
  });
});
