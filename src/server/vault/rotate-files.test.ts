import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { createTeam } from '../accounts/teams.js';
import type { StoreDeps } from '../store/ids.js';
import { migrate } from '../store/migrate.js';
import { openStore, type Store } from '../store/open.js';
import { describeStores, type StoreContext } from '../store/testing/dialects.js';
import type { Keyring } from './envelope.js';
import { loadKeyring, loadMasterKey, type MasterKey, masterKeyOf, readMasterKeyFile } from './master-key.js';
import { rotateKeyFiles, writeKeyFileAtomic } from './rotate-files.js';
import { Vault } from './vault.js';

const deps: StoreDeps = { clock: new FakeClock(), randomBytes: (n) => randomBytes(n) };
const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const s of stores.splice(0)) await s.close();
});

/** Each test its own database: the rotation looks at every secret stored, as it must. */
async function fresh(ctx: StoreContext): Promise<Store> {
  const s = await openStore(await ctx.freshLocation());
  stores.push(s);
  await migrate(s);
  return s;
}

async function seeded(s: Store, count: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ascend-rotate-'));
  dirs.push(dataDir);
  const old = await loadMasterKey({ dataDir, create: true, randomBytes: deps.randomBytes });
  const team = await createTeam(s, deps, 'Rotation');
  const vault = new Vault(s, { current: old }, deps);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await vault.seal(team.id, 'webhook-secret', `secret-${i}`));
  return { dataDir, old, team, ids };
}

/** Which of the keys opens each secret: one label per secret, 'none' when neither does. */
async function openedBy(s: Store, teamId: string, ids: string[], keys: Record<string, MasterKey>) {
  const out: string[] = [];
  for (const id of ids) {
    let by = 'none';
    for (const [name, key] of Object.entries(keys)) {
      const text = await new Vault(s, { current: key }, deps).open(teamId, id).catch(() => undefined);
      if (text?.toString() === `secret-${ids.indexOf(id)}`) by = name;
    }
    out.push(by);
  }
  return out;
}

const mode = (p: string) => statSync(p).mode & 0o777;

describeStores('rotate-master-key', (ctx) => {
  it('re-wraps every secret in batches, then swaps the files; a running server keeps opening them', async () => {
    const s = await fresh(ctx);
    const { dataDir, old, team, ids } = await seeded(s, 25);
    // A running server: loaded the old key, reloads the key files when it meets a key it does not know.
    const running = new Vault(s, { current: old }, deps, () => loadKeyring({ dataDir, create: false }));
    const batches: number[] = [];
    const r = await rotateKeyFiles(s, deps, { dataDir, batchSize: 10, onBatch: (n) => batches.push(n) });
    expect(r).toMatchObject({ rewrapped: 25, from: [old.id], swapped: true });
    expect(batches).toEqual([10, 20, 25]);
    const now = (await readMasterKeyFile(join(dataDir, 'master.key')))!;
    expect(now.id).toBe(r.to);
    expect((await readMasterKeyFile(join(dataDir, 'master.key.previous')))!.id).toBe(old.id);
    expect(existsSync(join(dataDir, 'master.key.next'))).toBe(false);
    expect([mode(join(dataDir, 'master.key')), mode(join(dataDir, 'master.key.previous'))]).toEqual([0o600, 0o600]);
    // Opens with the new key; the old key alone opens none.
    expect(await openedBy(s, team.id, ids, { new: now })).toEqual(ids.map(() => 'new'));
    expect(await openedBy(s, team.id, ids, { old })).toEqual(ids.map(() => 'none'));
    await expect(new Vault(s, { current: old }, deps).open(team.id, ids[3]!)).rejects.toMatchObject({
      code: 'VAULT_KEY_UNKNOWN',
    });
    expect((await running.open(team.id, ids[3]!)).toString()).toBe('secret-3');
    // …and seals new secrets with the new key from then on.
    const later = await running.seal(team.id, 'webhook-secret', 'secret-25');
    expect(await openedBy(s, team.id, [...ids, later], { new: now })).toEqual([...ids, later].map(() => 'new'));
  });

  it('interrupted after the first batch: every secret opens with the old or the new key; a re-run finishes', async () => {
    const s = await fresh(ctx);
    const { dataDir, old, team, ids } = await seeded(s, 25);
    const crash = rotateKeyFiles(s, deps, {
      dataDir,
      batchSize: 10,
      onBatch: () => {
        throw new Error('power cut');
      },
    });
    await expect(crash).rejects.toThrow('power cut');
    const next = (await readMasterKeyFile(join(dataDir, 'master.key.next')))!;
    expect(mode(join(dataDir, 'master.key.next'))).toBe(0o600);
    expect((await readMasterKeyFile(join(dataDir, 'master.key')))!.id).toBe(old.id);
    const split = await openedBy(s, team.id, ids, { old, new: next });
    expect(split.filter((k) => k === 'new')).toHaveLength(10);
    expect(split.filter((k) => k === 'old')).toHaveLength(15);
    // A server (re)started now loads both keys and opens every secret.
    const restarted: Keyring = await loadKeyring({ dataDir, create: false });
    const vault = new Vault(s, restarted, deps);
    for (const [i, id] of ids.entries()) expect((await vault.open(team.id, id)).toString()).toBe(`secret-${i}`);
    const r = await rotateKeyFiles(s, deps, { dataDir, batchSize: 10 });
    expect(r).toMatchObject({ to: next.id, rewrapped: 15, swapped: true });
    expect(await openedBy(s, team.id, ids, { old, new: next })).toEqual(ids.map(() => 'new'));
  });

  it('--new-key-file: uses that key; a second rotation also re-wraps what the previous key still holds', async () => {
    const s = await fresh(ctx);
    const { dataDir, old, team, ids } = await seeded(s, 3);
    const k2 = masterKeyOf(randomBytes(32));
    const file = join(dataDir, 'new.key');
    await writeKeyFileAtomic(file, k2);
    expect((await rotateKeyFiles(s, deps, { dataDir, newKeyFile: file })).to).toBe(k2.id);
    // A server that had not reloaded sealed one more secret with the old key after the swap.
    const stale = await new Vault(s, { current: old }, deps).seal(team.id, 'webhook-secret', 'secret-3');
    const r = await rotateKeyFiles(s, deps, { dataDir });
    expect(r.from).toEqual([k2.id, old.id]);
    expect(r.rewrapped).toBe(4);
    const k3 = (await readMasterKeyFile(join(dataDir, 'master.key')))!;
    expect(await openedBy(s, team.id, [...ids, stale], { k3 })).toEqual(['k3', 'k3', 'k3', 'k3']);
    await expect(rotateKeyFiles(s, deps, { dataDir, newKeyFile: join(dataDir, 'master.key') })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });
});
