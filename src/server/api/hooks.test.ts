import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { beforeAll, expect, it } from 'vitest';
import type { ApiKey } from '../../credentials/types.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { LoginLimiter } from '../accounts/login-limiter.js';
import { upsertApps } from '../store/apps.js';
import { ArtifactFiles } from '../store/artifact-files.js';
import type { StoreDeps } from '../store/ids.js';
import { addKey } from '../store/keys.js';
import type { Store } from '../store/open.js';
import { describeStores } from '../store/testing/dialects.js';
import {
  eventHandledSince,
  insertWebhook,
  listWebhookEvents,
  newWebhookId,
  updateWebhook,
  type WebhookRecord,
} from '../store/webhooks.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { signBody } from '../webhooks/signature.js';
import { WakeBus, wakeKey } from '../webhooks/wake.js';
import { EVENT_MEMORY_MS, WEBHOOK_JOB, type WebhookJobPayload, webhookJobHandler } from '../worker/webhook-job.js';
import { buildApi } from './app.js';

const SECRET = 'current-secret-0123456789abcdef';
const BUNDLE = 'com.example.hooks';

/** A clock the test moves by hand. */
class ManualClock {
  t = Date.UTC(2026, 10, 29, 6);
  now() {
    return this.t;
  }
}

const event = (id: string, uploadId: string, newState = 'COMPLETE') =>
  Buffer.from(
    JSON.stringify({
      data: {
        type: 'buildUploadStateUpdated',
        id,
        version: 1,
        attributes: { newState },
        relationships: { instance: { data: { type: 'buildUploads', id: uploadId } } },
      },
    }),
  );

describeStores('incoming webhooks: POST /hooks/apple/:id and the event job', (ctx) => {
  let store: Store;
  let vault: Vault;
  let app: FastifyInstance;
  let hook: WebhookRecord;
  let teamId: string;
  const clock = new ManualClock();
  const deps: StoreDeps = { clock, randomBytes: (n) => randomBytes(n) };
  const queued: WebhookJobPayload[] = [];
  let nudges = 0;
  const bus = new WakeBus();
  /** Apple's resources now, as the job re-reads them; a read of anything else fails the test. */
  const appleStates = new Map<string, string>();
  const reads: string[] = [];
  const readState = async (_key: ApiKey, r: { type: string; id: string }) => {
    reads.push(`${r.type}/${r.id}`);
    const s = appleStates.get(`${r.type}/${r.id}`);
    if (s === undefined) throw new Error(`unexpected read of ${r.type}/${r.id}`);
    return s;
  };
  const logLines: string[] = [];

  const post = (id: string, body: Buffer, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: `/hooks/apple/${id}`,
      headers: { 'content-type': 'application/json', ...headers },
      payload: body,
    });
  const signed = (body: Buffer, secret = SECRET) => ({ 'x-apple-signature': `hmacsha256=${signBody(secret, body)}` });
  const runJobs = async () => {
    const handler = webhookJobHandler({ store, vault, deps, apple: { readState }, bus });
    while (queued.length > 0) {
      const payload = queued.shift()!;
      await handler({ id: 'j', kind: WEBHOOK_JOB, payload, attempt: 1, signal: new AbortController().signal });
    }
  };

  beforeAll(async () => {
    store = ctx.store();
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
    await upsertApps(store, deps, teamId, [{ ascAppId: '100', bundleId: BUNDLE, name: 'Hooks', keyRef: key.id }]);
    const appRef = (await store.db.selectFrom('apps').select('id').executeTakeFirstOrThrow()).id;
    const id = newWebhookId(deps);
    hook = await insertWebhook(store, deps, {
      id,
      teamId,
      appRef,
      keyRef: key.id,
      url: `https://ci.example.com/hooks/apple/${id}`,
      secretId: await vault.seal(teamId, 'webhook-secret', SECRET),
    });
    app = buildApi(
      {
        store,
        vault,
        deps,
        limiter: new LoginLimiter(clock),
        secureCookies: false,
        queue: { name: 'test', workers: () => 0 },
        apple: {
          checkKey: () => Promise.reject(new Error('unexpected checkKey')),
          buildNumbersInUse: () => Promise.reject(new Error('unexpected buildNumbersInUse')),
        },
        artifacts: {
          files: new ArtifactFiles('/nonexistent', (n) => randomBytes(n)),
          maxBytes: 0,
          inspect: () => Promise.reject(new Error('unexpected inspection')),
        },
        hooks: {
          enqueue: async (p) => {
            queued.push(p);
            return `job${queued.length}`;
          },
          nudge: () => {
            nudges++;
          },
        },
      },
      { log: { write: (l) => logLines.push(l) } },
    );
  });

  it("accepts a delivery signed with the webhook's secret, re-reads the resource in a job and wakes the app's waiters", async () => {
    const woken: string[] = [];
    const off = bus.on(wakeKey(teamId, BUNDLE), () => woken.push('app'));
    const other = bus.on(wakeKey(teamId, 'com.example.other'), () => woken.push('other'));
    appleStates.set('buildUploads/up-1', 'COMPLETE');
    const body = event('ev-1', 'up-1');
    const res = await post(hook.id, body, signed(body));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted' });
    expect(queued).toHaveLength(1);
    expect(nudges).toBe(1);
    // The answer came before any work: nothing was read from Apple, nobody was woken yet.
    expect(reads).toEqual([]);
    expect(woken).toEqual([]);
    await runJobs();
    expect(reads).toEqual(['buildUploads/up-1']);
    expect(woken).toEqual(['app']);
    const [ev] = await listWebhookEvents(store, teamId, hook.id);
    expect(ev).toMatchObject({ eventId: 'ev-1', resourceType: 'buildUploads', resourceId: 'up-1', state: 'COMPLETE' });
    expect(ev!.handledAt).not.toBeNull();
    // What waiters in other processes ask the database: handled since they last looked?
    expect(await eventHandledSince(store, teamId, BUNDLE, clock.now())).toBe(true);
    expect(await eventHandledSince(store, teamId, BUNDLE, clock.now() + 1)).toBe(false);
    expect(await eventHandledSince(store, teamId, 'com.example.other', clock.now())).toBe(false);
    off();
    other();
  });

  it('ignores a duplicate and a replay of the same event: recorded once, no second job', async () => {
    const body = event('ev-1', 'up-1');
    const again = await post(hook.id, body, signed(body));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ status: 'duplicate' });
    // The same event re-serialised (as a redelivery may be) is still the same event.
    const reshaped = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 2));
    expect((await post(hook.id, reshaped, signed(reshaped))).json()).toEqual({ status: 'duplicate' });
    expect(queued).toHaveLength(0);
    expect(await listWebhookEvents(store, teamId, hook.id)).toHaveLength(1);
  });

  it('refuses a forged delivery (no signature, wrong secret, body changed after signing) with 401 and records nothing', async () => {
    const body = event('ev-forged', 'up-1');
    for (const headers of [
      {},
      { 'x-apple-signature': '' },
      signed(body, 'not the secret'),
      { 'x-apple-signature': `sha256=${signBody(SECRET, body)}` },
      signed(event('ev-other', 'up-1')),
    ]) {
      const res = await post(hook.id, body, headers);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('WEBHOOK_SIGNATURE_INVALID');
    }
    expect(queued).toHaveLength(0);
    expect((await listWebhookEvents(store, teamId, hook.id)).map((e) => e.eventId)).toEqual(['ev-1']);
  });

  it('answers 404 for an unknown or malformed webhook id, before looking at the signature', async () => {
    const body = event('ev-x', 'up-1');
    for (const id of [newWebhookId(deps), 'whk_short', '..%2Fapi']) {
      const res = await post(id, body, signed(body));
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('RESOURCE_NOT_FOUND');
    }
  });

  it('refuses an oversize body with 413 before checking anything, and a signed non-event with 400', async () => {
    const big = Buffer.alloc(65 * 1024, 'a');
    const res = await post(hook.id, big, signed(big));
    expect(res.statusCode).toBe(413);
    const notEvent = Buffer.from('{"hello":"world"}');
    const bad = await post(hook.id, notEvent, signed(notEvent));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('USAGE');
    expect(queued).toHaveLength(0);
  });

  it('takes the bytes as sent whatever the content type says', async () => {
    appleStates.set('buildUploads/up-2', 'PROCESSING');
    const body = event('ev-ct', 'up-2', 'PROCESSING');
    const res = await post(hook.id, body, { ...signed(body), 'content-type': 'text/plain' });
    expect(res.statusCode).toBe(202);
    await runJobs();
  });

  it('handles reordered deliveries by re-reading Apple: an older event arriving last records the state now', async () => {
    appleStates.set('buildUploads/up-3', 'COMPLETE');
    const newer = event('ev-3b', 'up-3', 'COMPLETE');
    const older = event('ev-3a', 'up-3', 'PROCESSING');
    expect((await post(hook.id, newer, signed(newer))).statusCode).toBe(202);
    expect((await post(hook.id, older, signed(older))).statusCode).toBe(202);
    await runJobs();
    const states = (await listWebhookEvents(store, teamId, hook.id))
      .filter((e) => e.resourceId === 'up-3')
      .map((e) => [e.eventId, e.state]);
    expect(states.sort()).toEqual([
      ['ev-3a', 'COMPLETE'],
      ['ev-3b', 'COMPLETE'],
    ]);
  });

  it('a job run twice (lease passed) reads Apple once', async () => {
    appleStates.set('buildUploads/up-4', 'COMPLETE');
    const body = event('ev-4', 'up-4');
    await post(hook.id, body, signed(body));
    const payload = queued[0]!;
    queued.push(payload);
    reads.length = 0;
    await runJobs();
    expect(reads).toEqual(['buildUploads/up-4']);
  });

  it('forgets events older than the dedup memory when the next one is handled', async () => {
    await store.db
      .insertInto('webhook_events')
      .values({
        id: 'whe_old',
        webhook_ref: hook.id,
        team_id: teamId,
        app_ref: hook.appRef,
        event_id: 'ev-ancient',
        event_type: 'buildUploadStateUpdated',
        resource_type: null,
        resource_id: null,
        state: null,
        received_at: new Date(clock.now() - EVENT_MEMORY_MS - 1).toISOString(),
        handled_at: null,
      })
      .execute();
    appleStates.set('buildUploads/up-6', 'COMPLETE');
    const body = event('ev-6', 'up-6');
    expect((await post(hook.id, body, signed(body))).statusCode).toBe(202);
    await runJobs();
    const ids = (await listWebhookEvents(store, teamId, hook.id)).map((e) => e.eventId);
    expect(ids).toContain('ev-6');
    expect(ids).toContain('ev-1');
    expect(ids).not.toContain('ev-ancient');
  });

  it('after a rotation accepts the previous secret until its grace ends, then refuses it', async () => {
    const prev = hook.secretId;
    const next = await vault.seal(teamId, 'webhook-secret', 'the-new-secret');
    await updateWebhook(store, deps, teamId, hook.id, {
      secretId: next,
      previousSecretId: prev,
      previousUntil: clock.now() + 60_000,
    });
    appleStates.set('buildUploads/up-5', 'COMPLETE');
    const a = event('ev-5a', 'up-5');
    expect((await post(hook.id, a, signed(a))).statusCode).toBe(202);
    const b = event('ev-5b', 'up-5');
    expect((await post(hook.id, b, signed(b, 'the-new-secret'))).statusCode).toBe(202);
    clock.t += 60_000;
    const c = event('ev-5c', 'up-5');
    expect((await post(hook.id, c, signed(c))).statusCode).toBe(401);
    const d = event('ev-5d', 'up-5');
    expect((await post(hook.id, d, signed(d, 'the-new-secret'))).statusCode).toBe(202);
    await runJobs();
  });

  it('never logs a signature or a secret', () => {
    const all = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('the-new-secret');
    expect(all).not.toContain('hmacsha256=');
  });
});
