import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { realSleep, systemClock } from '../../core/clock.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { upsertApps } from '../store/apps.js';
import type { StoreDeps } from '../store/ids.js';
import { addKey } from '../store/keys.js';
import type { Store } from '../store/open.js';
import { describeStores } from '../store/testing/dialects.js';
import { eventHandledSince, insertWebhook, newWebhookId, recordWebhookEvent } from '../store/webhooks.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { startWebhookRuntime, type WebhookRuntime } from './runtime.js';
import { createWaiter } from './wake.js';

const BUNDLE = 'com.example.runtime';

describeStores('webhook runtime: events taken in one process wake deploys waiting in this one or another', (ctx) => {
  let store: Store;
  let other: Store;
  let runtime: WebhookRuntime;
  let vault: Vault;
  let teamId: string;
  let hook: Awaited<ReturnType<typeof insertWebhook>>;
  const deps: StoreDeps = { clock: systemClock, randomBytes: (n) => randomBytes(n) };
  let n = 0;
  const deliver = async () => {
    const ev = await recordWebhookEvent(store, deps, hook, {
      eventId: `ev-${++n}`,
      eventType: 'buildUploadStateUpdated',
      resource: null,
    });
    await runtime.receiver.enqueue({ teamId, eventRef: ev!.id });
    runtime.receiver.nudge();
  };
  /** Resolves with what ended first; the sleeps here are a minute long, so only an event can end them in time. */
  const first = async (p: Promise<void>) => {
    const stop = new AbortController();
    const timer = realSleep(20_000, stop.signal).then(
      () => 'slept',
      () => 'stopped',
    );
    const r = await Promise.race([p.then(() => 'woken'), timer]);
    stop.abort();
    return r;
  };

  beforeAll(async () => {
    store = ctx.store();
    other = await ctx.openAnother();
    vault = new Vault(store, { current: masterKeyOf(randomBytes(32)) }, deps);
    teamId = (await ensureFirstAdmin(store, deps)).team.id;
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const key = await addKey(store, vault, deps, teamId, {
      name: 'k',
      keyId: 'ABCDEFGHIJ',
      issuerId: '69a6de70-03db-47e3-e053-5b8c7c11a4d1',
      privateKey: pem,
    });
    await upsertApps(store, deps, teamId, [{ ascAppId: '7', bundleId: BUNDLE, name: 'R', keyRef: key.id }]);
    const appRef = (await store.db.selectFrom('apps').select('id').executeTakeFirstOrThrow()).id;
    const id = newWebhookId(deps);
    hook = await insertWebhook(store, deps, {
      id,
      teamId,
      appRef,
      keyRef: key.id,
      url: `https://ci.example.com/hooks/apple/${id}`,
      secretId: await vault.seal(teamId, 'webhook-secret', 's'),
    });
    runtime = startWebhookRuntime({
      store,
      vault,
      deps,
      clock: systemClock,
      sleep: realSleep,
      crossProcessCheckMs: 20,
    });
  });
  afterAll(async () => {
    await runtime.stop({ timeoutMs: 1000 });
    await other.close();
  });

  it('in this process: the job handles the event at once (nudged) and ends the waiting sleep', async () => {
    const w = runtime.waiter(teamId, BUNDLE);
    const sleeping = w.sleep(60_000);
    await deliver();
    expect(await first(sleeping)).toBe('woken');
    w.close();
  });

  it('in another process: a waiter on another connection sees the handled event in the database', async () => {
    // Another process's deploy: no bus shared with this runtime, only the database.
    const w = createWaiter({
      base: realSleep,
      clock: systemClock,
      key: 'elsewhere',
      handledSince: (since) => eventHandledSince(other, teamId, BUNDLE, since),
      checkMs: 20,
    });
    const sleeping = w.sleep(60_000);
    await realSleep(30); // it is asleep, and has checked at least once
    await deliver();
    expect(await first(sleeping)).toBe('woken');
    w.close();
  });
});
