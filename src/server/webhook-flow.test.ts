import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { realSleep, type Sleep } from '../core/clock.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../sample/builder.js';
import { ensureFirstAdmin } from './accounts/bootstrap.js';
import { createService, type Service } from './service.js';
import { describeStores, type StoreContext } from './store/testing/dialects.js';
import { bearerFor, databaseUrlOf } from './store/testing/service.js';

/** Apple's processing never ends by itself here: the test ends it by moving the simulator's clock. */
// Shorter than the simulator's first retry (60 s), so moving past it sends no retry of a dropped delivery.
const PROCESSING_S = 30;
const PUBLIC_URL = 'http://ascend.test';
const BUNDLE = 'com.example.sandbox.one';

/**
 * A sleep whose long waits (a poll's, 1 s and up) hang until aborted or released: with it, a deploy that
 * moves on past a wait can only have been woken. Short waits (queue loops) pass through, shortened.
 */
function holdingSleep() {
  const held = new Set<{ ms: number; release: () => void }>();
  let holding = true;
  const sleep: Sleep = (ms, signal) => {
    if (!holding || ms < 1000) return realSleep(Math.min(ms / 20, 50), signal);
    return new Promise((resolve, reject) => {
      const h = {
        ms,
        release: () => {
          held.delete(h);
          resolve();
        },
      };
      held.add(h);
      signal?.addEventListener(
        'abort',
        () => {
          held.delete(h);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  };
  return {
    sleep,
    held,
    releaseAll() {
      holding = false;
      for (const h of [...held]) h.release();
    },
  };
}

const until = async (what: string, check: () => Promise<boolean> | boolean, tries = 600) => {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await realSleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
};

/** One service with its simulator; Apple's deliveries reach the service's route in process. */
function flow(ctx: StoreContext, o: { webhookFaults?: string; sleep: Sleep }) {
  const state = { logs: [] as string[] } as {
    sim: Simulator;
    svc: Service;
    dir: string;
    releaser: Record<string, string>;
    owner: Record<string, string>;
    logs: string[];
  };
  beforeAll(async () => {
    state.sim = await startSimulator({
      host: '127.0.0.1',
      port: 0,
      processingSeconds: PROCESSING_S,
      partSizeBytes: 256 * 1024,
      ...(o.webhookFaults ? { webhookFaults: o.webhookFaults, faultSeed: 7 } : {}),
      webhookSender: async (req) => {
        const res = await state.svc.app.inject({
          method: 'POST',
          url: new URL(req.url).pathname,
          headers: req.headers,
          payload: req.body,
        });
        return { status: res.statusCode, body: res.body };
      },
    });
    state.dir = mkdtempSync(join(tmpdir(), 'ascend-hooks-'));
    state.svc = await createService({
      dataDir: state.dir,
      databaseUrl: databaseUrlOf(ctx.location()),
      apiUrl: state.sim.url,
      workers: 1,
      sleep: o.sleep,
      pollMs: 20,
      publicUrl: PUBLIC_URL,
      // On PostgreSQL the waits also ask the database (events taken by other processes); here the poll's own
      // sleep is held whole, so only the in-process wake-up can end it.
      webhookWakeCheckMs: 60_000,
      extraTrustedRoots: [SAMPLE_ROOT_SHA256],
      log: { write: (l) => void state.logs.push(l) },
    });
    const { store, deps } = state.svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    const owner = { authorization: `Bearer ${first.apiToken}` };
    state.owner = owner;
    state.releaser = await bearerFor(store, deps, first.team.id, 'releaser');
    const k = state.sim.createKey({ role: 'APP_MANAGER' });
    const added = await state.svc.app.inject({
      method: 'POST',
      url: '/api/v1/keys',
      headers: owner,
      payload: { name: 'sandbox', keyId: k.keyId, issuerId: k.issuerId, privateKey: k.privateKeyPem },
    });
    expect(added.statusCode).toBe(201);
    expect((await state.svc.app.inject({ method: 'POST', url: '/api/v1/apps/sync', headers: owner })).statusCode).toBe(
      200,
    );
  });
  afterAll(async () => {
    await state.svc?.close({ timeoutMs: 2000 });
    await state.sim?.close();
    rmSync(state.dir, { recursive: true, force: true });
  });

  const deployOf = async (id: string) =>
    (await state.svc.app.inject({ method: 'GET', url: `/api/v1/deploys/${id}`, headers: state.releaser })).json();
  const startDeploy = async (build: string) => {
    const ipa = join(state.dir, `App-${build}.ipa`);
    await buildIpa(ipa, { bundleId: BUNDLE, version: '1.1.0', build, payloadBytes: 300 * 1024 });
    const art = await state.svc.app.inject({
      method: 'POST',
      url: '/api/v1/artifacts',
      headers: { ...state.releaser, 'content-type': 'application/octet-stream', 'x-filename': 'App.ipa' },
      payload: readFileSync(ipa),
    });
    expect(art.statusCode).toBe(201);
    const res = await state.svc.app.inject({
      method: 'POST',
      url: '/api/v1/deploys',
      headers: state.releaser,
      payload: { artifactId: art.json().id },
    });
    expect(res.statusCode).toBe(202);
    return res.json().id as string;
  };
  const uploadsProcessing = () =>
    state.sim.store
      .list('buildUploads')
      .filter((u) => (u.attributes.state as { state?: string })?.state === 'PROCESSING');
  /** Apple finishes processing: the simulator's clock moves past it (a request-free change, as at Apple). */
  const finishProcessing = async () => {
    const res = await state.sim.app.inject({
      method: 'POST',
      url: '/__sim/clock',
      payload: { advanceSeconds: PROCESSING_S + 1 },
    });
    expect(res.statusCode).toBe(200);
  };
  const uploadDone = async (id: string) =>
    ((await deployOf(id)).steps as { step: string; status: string }[]).some(
      (s) => s.step === 'upload' && s.status === 'done',
    );
  const handledEvents = () =>
    state.svc.storage.store.db.selectFrom('webhook_events').selectAll().where('handled_at', 'is not', null).execute();
  return { state, deployOf, startDeploy, uploadsProcessing, finishProcessing, uploadDone, handledEvents };
}

describeStores('a deploy continues on the webhook', (ctx) => {
  const hold = holdingSleep();
  const f = flow(ctx, { sleep: hold.sleep });

  it('registers the app’s webhook at the simulator on apps sync', () => {
    const hooks = f.state.sim.store.list('webhooks');
    expect(hooks.map((w) => String(w.attributes.url).startsWith(`${PUBLIC_URL}/hooks/apple/whk_`))).toContain(true);
  });

  it('keeps the webhook secret in the vault only: not in a log line, an answer or the database in plain text', async () => {
    const { store, vault } = f.state.svc.storage;
    const row = await store.db.selectFrom('webhooks').selectAll().executeTakeFirstOrThrow();
    const secret = (await vault.open(row.team_id, row.secret_id)).toString();
    expect(secret.length).toBeGreaterThanOrEqual(43);
    const shown = await f.state.svc.app.inject({
      method: 'GET',
      url: `/api/v1/apps/${row.app_ref}/webhook`,
      headers: f.state.releaser,
    });
    expect(shown.statusCode).toBe(200);
    expect(shown.body).not.toContain(secret);
    expect(f.state.logs.join('\n')).not.toContain(secret);
    if (ctx.dialect === 'sqlite') {
      const loc = ctx.location();
      if (loc.dialect === 'sqlite')
        for (const file of [loc.path, `${loc.path}-wal`].filter((x) => existsSync(x)))
          expect(readFileSync(file).includes(secret)).toBe(false);
    }
  });

  it('rotates the secret at the simulator; the deliveries that follow, signed with the new one, are accepted', async () => {
    const { store, vault } = f.state.svc.storage;
    const before = await store.db
      .selectFrom('webhooks')
      .innerJoin('apps', 'apps.id', 'webhooks.app_ref')
      .selectAll('webhooks')
      .where('apps.bundle_id', '=', BUNDLE)
      .executeTakeFirstOrThrow();
    const res = await f.state.svc.app.inject({
      method: 'POST',
      url: `/api/v1/apps/${before.app_ref}/webhook/rotate`,
      headers: f.state.owner,
    });
    expect(res.statusCode).toBe(200);
    const after = await store.db
      .selectFrom('webhooks')
      .selectAll()
      .where('id', '=', before.id)
      .executeTakeFirstOrThrow();
    expect(after.secret_id).not.toBe(before.secret_id);
    expect(after.previous_secret_id).toBe(before.secret_id);
    // The old secret stops counting now: only the new one, as the simulator holds it, can pass.
    await store.db
      .updateTable('webhooks')
      .set({ previous_until: new Date(0).toISOString() })
      .execute();
    expect((await vault.open(after.team_id, after.secret_id)).length).toBeGreaterThanOrEqual(43);
  });

  it('wakes the processing wait when Apple’s event arrives, while the poll’s own sleep is still pending', async () => {
    const id = await f.startDeploy('21');
    // The deploy's poll has read PROCESSING and sleeps (held: it cannot end by itself).
    // (The event for PROCESSING already ended one of its sleeps; the poll's sleeps are 1 s to 15 s, the event
    // queue's idle wait is 5 s.)
    await until(
      'the processing poll to sleep',
      async () =>
        f.uploadsProcessing().length === 1 &&
        (await f.handledEvents()).length === 1 &&
        [...hold.held].some((h) => h.ms >= 1000 && h.ms <= 15_000 && h.ms !== 5000),
    );
    expect(await f.uploadDone(id)).toBe(false);
    await f.finishProcessing();
    await until('the upload step to finish', () => f.uploadDone(id));
    // Nothing was released: the wait ended because the event woke it.
    const events = await f.handledEvents();
    expect(events.map((e) => [e.event_type, e.resource_type, e.state])).toContainEqual([
      'buildUploadStateUpdated',
      'buildUploads',
      'COMPLETE',
    ]);
    // The rest (the build's own processing) is polled as before.
    expect(f.state.sim.store.list('webhookDeliveries').every((d) => d.attributes.deliveryState === 'SUCCEEDED')).toBe(
      true,
    );
    hold.releaseAll();
    await f.finishProcessing();
    await until('the deploy to succeed', async () => (await f.deployOf(id)).state === 'succeeded');
  });
});

describeStores('a deploy continues on the poll when the webhook is dropped', (ctx) => {
  const f = flow(ctx, { webhookFaults: 'drop=1', sleep: (ms, s) => realSleep(Math.min(ms / 20, 50), s) });

  it('finishes by polling; the dropped delivery is recorded as failed and nothing was handled', async () => {
    const id = await f.startDeploy('22');
    await until('the upload to be processing', () => f.uploadsProcessing().length === 1);
    await f.finishProcessing();
    await until('the upload step to finish', () => f.uploadDone(id));
    expect(await f.handledEvents()).toEqual([]);
    const deliveries = f.state.sim.store.list('webhookDeliveries');
    expect(deliveries.length).toBeGreaterThan(0);
    expect(deliveries.every((d) => d.attributes.deliveryState === 'FAILED')).toBe(true);
    await f.finishProcessing();
    await until('the deploy to succeed', async () => (await f.deployOf(id)).state === 'succeeded');
  });
});
