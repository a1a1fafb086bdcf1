import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { FakeClock, realSleep } from '../../core/clock.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { DEPLOY_JOB, deployJobHandler } from '../worker/deploy-job.js';
import { holdKeySlot } from '../worker/key-slot-hold.js';
import { createDeploy, getDeploy } from './deploys.js';
import type { StoreDeps } from './ids.js';
import { DEFAULT_DEPLOYS_PER_KEY, deploysPerKey, releaseKeySlot, takeKeySlot } from './key-slots.js';
import { addKey } from './keys.js';
import type { Store } from './open.js';
import { scaleDb } from './scale.js';
import { putSetting } from './settings.js';
import { describeStores } from './testing/dialects.js';
import { withFailingUpdates } from './testing/failing-store.js';

const TEST_PEM = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const ISSUER = '57246542-96fe-1a63-e053-0824d011072a';

describeStores('per-key deploy slots', (ctx) => {
  const clock = new FakeClock(Date.UTC(2026, 10, 29, 5));
  const deps: StoreDeps = { clock, randomBytes: (n) => randomBytes(n) };
  const extra: Store[] = [];
  afterAll(async () => {
    for (const s of extra.splice(0)) await s.close();
  });
  let n = 0;
  const key = () => `key_slot_test_${n++}`;
  const take = (keyRef: string, holder: string, limit = 2, store = ctx.store()) =>
    takeKeySlot(store, deps, { keyRef, holder, limit, leaseMs: 60_000 });

  it('the team setting deploysPerKey sets the limit; unusable values keep the default', () => {
    expect(deploysPerKey({})).toBe(DEFAULT_DEPLOYS_PER_KEY);
    expect(deploysPerKey({ deploysPerKey: 5 })).toBe(5);
    expect(deploysPerKey({ deploysPerKey: 0 })).toBe(DEFAULT_DEPLOYS_PER_KEY);
    expect(deploysPerKey({ deploysPerKey: '3' })).toBe(DEFAULT_DEPLOYS_PER_KEY);
  });

  it('a key gives out its limit of slots; a released or lapsed slot is taken again; a holder keeps its own', async () => {
    const k = key();
    expect(await take(k, 'dep_a')).toBe(true);
    expect(await take(k, 'dep_b')).toBe(true);
    expect(await take(k, 'dep_c')).toBe(false);
    expect(await take(k, 'dep_a')).toBe(true); // resumed elsewhere: still its slot
    expect(await take(key(), 'dep_c')).toBe(true); // another key has its own slots
    await releaseKeySlot(ctx.store(), k, 'dep_b');
    expect(await take(k, 'dep_c')).toBe(true);
    clock.advance(60_001); // every holder of k was killed: their slots lapse
    expect(await take(k, 'dep_d')).toBe(true);
    const holders = await scaleDb(ctx.store())
      .selectFrom('key_slots')
      .select('holder')
      .where('key_ref', '=', k)
      .execute();
    expect(holders.map((h) => h.holder)).toEqual(['dep_d']);
  });

  if (ctx.dialect === 'postgres')
    it('ten workers racing for a key with two slots get two', async () => {
      const { store, deps: d } = { store: ctx.store(), deps };
      const team = (await ensureFirstAdmin(store, d)).team.id;
      const vault = new Vault(store, { current: masterKeyOf(randomBytes(32)) }, d);
      const k = await addKey(store, vault, d, team, {
        name: 'race',
        keyId: 'RACE000001',
        issuerId: ISSUER,
        privateKey: TEST_PEM,
      });
      const stores = await Promise.all(Array.from({ length: 5 }, () => ctx.openAnother()));
      extra.push(...stores);
      const got = await Promise.all(Array.from({ length: 10 }, (_, i) => take(k.id, `dep_${i}`, 2, stores[i % 5])));
      expect(got.filter(Boolean)).toHaveLength(2);
    });

  it('a deploy job finding every slot of its key busy queues itself for later and leaves the deploy queued', async () => {
    const store = ctx.store();
    const team = (await ensureFirstAdmin(store, deps)).team.id;
    const vault = new Vault(store, { current: masterKeyOf(randomBytes(32)) }, deps);
    const k = await addKey(store, vault, deps, team, {
      name: 'busy',
      keyId: 'BUSY000001',
      issuerId: ISSUER,
      privateKey: TEST_PEM,
    });
    await putSetting(store, deps, team, 'deploysPerKey', 1);
    expect(await take(k.id, 'dep_other', 1)).toBe(true);
    const d = await createDeploy(store, deps, team, { keyRef: k.id, options: {} });
    const requeued: [unknown, number][] = [];
    const fail = () => {
      throw new Error('a deploy without a slot must not reach Apple or the files');
    };
    const handler = deployJobHandler({
      store,
      vault,
      deps,
      clients: { for: fail } as never,
      files: { pathOf: fail } as never,
      sleep: clock.sleep,
      random: () => 0.5,
      transport: fail,
      running: new Map(),
      keySlots: { leaseMs: 60_000, retryAfterMs: 15_000, requeue: async (p, at) => void requeued.push([p, at]) },
    });
    await handler({
      id: 'job_1',
      kind: DEPLOY_JOB,
      payload: { teamId: team, deployId: d.id },
      attempt: 1,
      signal: new AbortController().signal,
    });
    expect(requeued).toEqual([[{ teamId: team, deployId: d.id }, clock.now() + 15_000]]);
    expect((await getDeploy(store, team, d.id)).state).toBe('queued');
  });

  it('a held slot is lost when a renewal is refused, or once renewals have failed for its whole lease', async () => {
    let failing = false;
    const store = withFailingUpdates(ctx.store(), () => failing);
    // The clock moves only as the renewal loop sleeps: no wall-clock time is asserted.
    const sleep = async (ms: number, signal?: AbortSignal) => {
      await realSleep(1, signal);
      clock.advance(ms);
    };
    const policy = { leaseMs: 300, retryAfterMs: 1000, requeue: async () => {} };
    const env = { store, deps, sleep };
    const k = key();
    const refused = await holdKeySlot(env, policy, 'team_x', k, 'job_a:1');
    await releaseKeySlot(ctx.store(), k, 'job_a:1'); // lapsed and taken meanwhile
    await new Promise((r) => refused!.lost.addEventListener('abort', r, { once: true }));
    expect((refused!.lost.reason as { code?: string }).code).toBe('JOB_NOT_LEASED');
    await refused!.release();

    const cut = await holdKeySlot(env, policy, 'team_x', k, 'job_b:1');
    const start = clock.now();
    failing = true;
    await new Promise((r) => cut!.lost.addEventListener('abort', r, { once: true }));
    failing = false;
    expect(clock.now() - start).toBeGreaterThanOrEqual(policy.leaseMs);
    await cut!.release();
    expect(await scaleDb(ctx.store()).selectFrom('key_slots').selectAll().where('key_ref', '=', k).execute()).toEqual(
      [],
    );
  });
});
