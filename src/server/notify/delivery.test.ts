import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeClock, realSleep } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import { createTeam } from '../accounts/teams.js';
import type { StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import { describeStores } from '../store/testing/dialects.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { listDeliveries } from './deliveries.js';
import { notifyJobHandler, type RetryPolicy, retryDelay } from './job.js';
import { NOTIFY_JOB, Notifier, type NotifyJobPayload, requeueOrphanedDeliveries } from './notifier.js';
import { httpPost } from './post.js';
import { addTarget, listTargets, removeTarget } from './targets.js';
import { Receiver } from './testing/receiver.js';

const T0 = Date.parse('2026-11-29T00:00:00Z');
const master = masterKeyOf(randomBytes(32));
const RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 10_000, maxDelayMs: 60_000 };
const open = { allowPrivate: true };

describeStores('notifications: targets, signed deliveries and retries', (ctx) => {
  let rx: Receiver;
  let s: Store;
  let clock: FakeClock;
  let deps: StoreDeps;
  let vault: Vault;
  let teamId: string;
  const jobs: { payload: NotifyJobPayload; runAt: number | undefined }[] = [];

  beforeAll(async () => {
    rx = await Receiver.start();
    s = ctx.store();
    clock = new FakeClock(T0);
    deps = { clock, randomBytes: (n) => randomBytes(n) };
    vault = new Vault(s, { current: master }, deps);
    teamId = (await createTeam(s, deps, 'Acme <b>&</b>')).id;
  });
  afterAll(async () => rx.close());

  const notifier = () =>
    new Notifier(s, deps, async (payload, runAt) => {
      jobs.push({ payload, runAt });
    });
  const handler = (timeoutMs = 5_000, policy = open) =>
    notifyJobHandler({
      store: s,
      vault,
      deps,
      post: httpPost(policy, realSleep, timeoutMs),
      random: () => 0.5,
      enqueue: async (payload, runAt) => {
        jobs.push({ payload, runAt });
      },
      retry: RETRY,
    });
  const run = async (h: ReturnType<typeof handler>) => {
    const j = jobs.shift();
    if (!j) throw new Error('no job queued');
    await h({ id: 'job_t', kind: NOTIFY_JOB, payload: j.payload, attempt: 1, signal: new AbortController().signal });
    return j;
  };

  it('refuses private targets without the allowance, keeps URL and secret in the vault only, lists the host', async () => {
    for (const url of ['http://example.com/x', 'https://10.1.2.3/x', 'https://[::1]/x', 'https://localhost/x']) {
      await expect(
        addTarget(s, vault, deps, { allowPrivate: false }, teamId, null, { kind: 'webhook', name: 'x', url }),
      ).rejects.toMatchObject({ code: 'NOTIFY_TARGET_INVALID' });
    }
    await expect(
      addTarget(s, vault, deps, open, teamId, null, { kind: 'slack', name: 's', url: rx.url, events: ['nope'] }),
    ).rejects.toMatchObject({ code: 'NOTIFY_TARGET_INVALID' });
    const { target, secret } = await addTarget(s, vault, deps, open, teamId, null, {
      kind: 'webhook',
      name: 'hook',
      url: `${rx.url}/in/path-secret?token=query-secret`,
    });
    expect(secret).toMatch(/^whsec_[a-z2-7]{52}$/);
    expect(target).toEqual({
      id: expect.stringMatching(/^ntg_/),
      kind: 'webhook',
      name: 'hook',
      events: expect.arrayContaining(['deploy.failed', 'alert.opened']),
      host: '127.0.0.1',
      createdAt: new Date(T0).toISOString(),
    });
    const stored = JSON.stringify(await s.db.selectFrom('notification_targets').selectAll().execute());
    const secrets = JSON.stringify(await s.db.selectFrom('secrets').selectAll().execute());
    for (const text of [stored, secrets]) {
      expect(text).not.toContain('path-secret');
      expect(text).not.toContain('query-secret');
      expect(text).not.toContain(secret!);
    }
    await expect(
      addTarget(s, vault, deps, open, teamId, null, { kind: 'webhook', name: 'hook', url: rx.url }),
    ).rejects.toMatchObject({ code: 'RESOURCE_EXISTS' });
    rx.secret = secret;
  });

  it('signs the body, retries a 500 with backoff and jitter, records each attempt, and sends an event once', async () => {
    const n = notifier();
    const first = await n.emit(teamId, {
      type: 'deploy.failed',
      dedupKey: 'deploy:dep_1:failed:7',
      deploy: { id: 'dep_1', state: 'failed', error: { code: 'BUILD_INVALID', message: 'Apple said no' } },
    });
    expect(first).toHaveLength(1);
    // The same happening again (a resumed run) is not a second event.
    expect(await n.emit(teamId, { type: 'deploy.failed', dedupKey: 'deploy:dep_1:failed:7' })).toEqual([]);
    expect(jobs).toHaveLength(1);
    rx.answer(500);
    const h = handler();
    await run(h);
    // Attempt 2 waits 10 s doubled from the base, half of it jittered: 5 s + 0.5 × 5 s.
    expect(retryDelay(RETRY, 1, () => 0.5)).toBe(7_500);
    expect(jobs).toEqual([{ payload: { teamId, deliveryId: first[0], attempt: 2 }, runAt: T0 + 7_500 }]);
    clock.advance(7_500);
    await run(h);
    expect(jobs).toEqual([]);
    expect(rx.received).toHaveLength(2);
    for (const r of rx.received) {
      expect(r.signatureValid).toBe(true);
      expect(r.path).toBe('/in/path-secret?token=query-secret');
      expect(r.headers['x-ascend-event']).toBe('deploy.failed');
      expect(r.headers['x-ascend-delivery']).toBe(first[0]);
    }
    expect(rx.received[0]!.body).toBe(rx.received[1]!.body);
    const body = JSON.parse(rx.received[0]!.body);
    expect(body).toEqual({
      id: expect.stringMatching(/^nev_/),
      type: 'deploy.failed',
      createdAt: new Date(T0).toISOString(),
      team: { id: teamId, name: 'Acme <b>&</b>' },
      deploy: { id: 'dep_1', state: 'failed', error: { code: 'BUILD_INVALID', message: 'Apple said no' } },
    });
    expect(rx.received[0]!.headers['x-ascend-timestamp']).toBe(String(T0 / 1000));
    const [d] = await listDeliveries(s, teamId);
    expect(d).toMatchObject({ id: first[0], state: 'delivered', attempts: 2, lastStatus: 200, lastError: null });
    expect(d!.history.map((a) => [a.attempt, a.statusCode, a.error])).toEqual([
      [1, 500, 'HTTP 500'],
      [2, 200, null],
    ]);
    // A duplicate of a job already run sends nothing again.
    await h({
      id: 'job_dup',
      kind: NOTIFY_JOB,
      payload: { teamId, deliveryId: first[0], attempt: 2 },
      attempt: 1,
      signal: new AbortController().signal,
    });
    expect(rx.received).toHaveLength(2);
  });

  it('a receiver that never answers times out and is retried; after the last attempt the delivery fails', async () => {
    rx.received.length = 0;
    const ids = await notifier().emit(teamId, { type: 'alert.opened', dedupKey: 'alert:alr_1:opened' });
    rx.answer('hang', 503, 503);
    const h = handler(300);
    await run(h);
    await run(h);
    await run(h);
    expect(jobs).toEqual([]);
    const d = (await listDeliveries(s, teamId)).find((x) => x.id === ids[0])!;
    expect(d.state).toBe('failed');
    expect(d.history.map((a) => [a.statusCode, a.error])).toEqual([
      [null, 'TIMEOUT'],
      [503, 'HTTP 503'],
      [503, 'HTTP 503'],
    ]);
  });

  it('a 4xx is not retried; an address refused at connect is not sent and not retried', async () => {
    rx.received.length = 0;
    const a = await notifier().emit(teamId, { type: 'alert.resolved', dedupKey: 'alert:alr_1:resolved' });
    rx.answer(410);
    await run(handler());
    expect(jobs).toEqual([]);
    const b = await notifier().emit(teamId, { type: 'alert.resolved', dedupKey: 'alert:alr_2:resolved' });
    // Saved while the server allowed private targets; this server does not.
    await run(handler(5_000, { allowPrivate: false }));
    expect(jobs).toEqual([]);
    expect(rx.received).toHaveLength(1);
    const all = await listDeliveries(s, teamId);
    expect(all.find((x) => x.id === a[0])).toMatchObject({ state: 'failed', lastStatus: 410, attempts: 1 });
    expect(all.find((x) => x.id === b[0])).toMatchObject({ state: 'failed', lastError: 'ADDRESS_REFUSED' });
  });

  it('Slack targets get escaped mrkdwn and no signature; a removed target leaves no secret behind', async () => {
    rx.received.length = 0;
    const { target } = await addTarget(s, vault, deps, open, teamId, null, {
      kind: 'slack',
      name: 'slack',
      url: `${rx.url}/services/T0/B0/xyz`,
      events: ['deploy.processed'],
    });
    const ids = await notifier().emit(teamId, {
      type: 'deploy.processed',
      dedupKey: 'deploy:dep_2:process',
      deploy: { id: 'dep_2', state: 'running', bundleId: 'com.example.<!channel>', version: '1.0', buildNumber: '7' },
    });
    // The Slack target and the webhook (which wants every event).
    expect(ids).toHaveLength(2);
    while (jobs.length > 0) await run(handler());
    const slack = rx.received.find((r) => r.path === '/services/T0/B0/xyz')!;
    expect(slack.headers['x-ascend-signature']).toBeUndefined();
    const msg = JSON.parse(slack.body) as { text: string; blocks: unknown[] };
    expect(msg.text).toContain('com.example.&lt;!channel&gt; 1.0 (7)');
    expect(msg.text).toContain('Acme &lt;b&gt;&amp;&lt;/b&gt;');
    expect(msg.text).not.toContain('<!channel>');
    expect(msg.blocks).toHaveLength(1);
    const before = await s.db.selectFrom('secrets').select('id').execute();
    await removeTarget(s, vault, teamId, target.id);
    expect(await s.db.selectFrom('secrets').select('id').execute()).toHaveLength(before.length - 1);
    expect((await listTargets(s, teamId)).map((t) => t.name)).toEqual(['hook']);
    await expect(removeTarget(s, vault, teamId, target.id)).rejects.toBeInstanceOf(AscendError);
  });

  it('a delivery whose job was never queued (the process stopped in between) is queued again at start', async () => {
    rx.received.length = 0;
    const lost = new Notifier(s, deps, async () => {
      throw new Error('process stopped');
    });
    await expect(lost.emit(teamId, { type: 'deploy.started', dedupKey: 'deploy:dep_9:started' })).rejects.toThrow();
    expect(jobs).toEqual([]);
    const enqueue = async (payload: NotifyJobPayload, runAt?: number) => void jobs.push({ payload, runAt });
    // The queue here is the `jobs` list: what it holds is what still lives.
    const queue = { livePayloads: async () => jobs.map((j) => j.payload) };
    expect(await requeueOrphanedDeliveries(s, queue, enqueue)).toBe(1);
    expect(jobs.map((j) => j.payload.attempt)).toEqual([1]);
    await run(handler());
    expect(rx.received.map((r) => r.headers['x-ascend-event'])).toEqual(['deploy.started']);
    // Nothing is pending any more: nothing to queue again.
    expect(await requeueOrphanedDeliveries(s, queue, enqueue)).toBe(0);
  });

  it('a name is resolved at connect: localhost is sent to when allowed and refused (ADDRESS_REFUSED) when not', async () => {
    rx.received.length = 0;
    const port = new URL(rx.url).port;
    const { target } = await addTarget(s, vault, deps, open, teamId, null, {
      kind: 'webhook',
      name: 'by-name',
      url: `http://localhost:${port}/by-name`,
      secret: 'a-secret-of-sixteen+',
      events: ['deploy.succeeded'],
    });
    rx.secret = 'a-secret-of-sixteen+';
    const emit = (key: string) => notifier().emit(teamId, { type: 'deploy.succeeded', dedupKey: key });
    const [allowed] = await emit('deploy:dep_n1:succeeded');
    const hook = jobs.findIndex((j) => j.payload.deliveryId !== allowed);
    jobs.splice(hook, 1); // the catch-all "hook" target's delivery: not this test's
    await run(handler());
    clock.advance(1_000);
    const [refused] = await emit('deploy:dep_n2:succeeded');
    jobs.splice(
      jobs.findIndex((j) => j.payload.deliveryId !== refused),
      1,
    );
    await run(handler(5_000, { allowPrivate: false }));
    expect(rx.received.map((r) => [r.path, r.signatureValid])).toEqual([['/by-name', true]]);
    const all = await listDeliveries(s, teamId, { targetId: target.id });
    expect(all.map((d) => [d.state, d.lastError])).toEqual([
      ['failed', 'ADDRESS_REFUSED'],
      ['delivered', null],
    ]);
  });
});
