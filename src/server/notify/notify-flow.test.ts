import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../simulator/index.js';
import { realSleep, type Sleep } from '../../core/clock.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../../sample/builder.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { createTeam } from '../accounts/teams.js';
import { createService, type Service } from '../service.js';
import { describeStores } from '../store/testing/dialects.js';
import { bearerFor, databaseUrlOf, type Headers, recordingCall } from '../store/testing/service.js';
import { httpPost } from './post.js';
import { Receiver } from './testing/receiver.js';

const APP = 'com.example.sandbox.one';
const DAY = 86_400_000;
// The simulator's processing and review waits, shortened; a notification attempt keeps its real timeout.
const quickSleep: Sleep = (ms, signal) => realSleep(Math.min(ms / 20, 200), signal);

interface Delivery {
  id: string;
  targetId: string;
  event: string;
  state: string;
  attempts: number;
  history: { attempt: number; statusCode: number | null; error: string | null }[];
}

describeStores('server: outgoing notifications for deploys and alerts', (ctx) => {
  let sim: Simulator;
  let svc: Service;
  let rx: Receiver;
  let dir: string;
  let hookId = '';
  let slackId = '';
  let secret = '';
  const bodies: string[] = [];
  const logs: string[] = [];
  const t: Record<'owner' | 'releaser' | 'other', Headers> = { owner: {}, releaser: {}, other: {} };
  const call = recordingCall(() => svc.app, bodies);

  const deliveries = async (): Promise<Delivery[]> =>
    (await call('GET', '/api/v1/notifications/deliveries?limit=200', t.owner)).json().data;
  /** Waits until no delivery is pending (the embedded worker sends them). */
  const settled = async (until: () => boolean = () => true): Promise<Delivery[]> => {
    for (let i = 0; i < 400; i++) {
      const all = await deliveries();
      if (all.every((d) => d.state !== 'pending') && until()) return all;
      await realSleep(25);
    }
    throw new Error('deliveries still pending');
  };
  const webhookEvents = () =>
    rx.received
      .filter((r) => r.path === '/hook/p?k=v')
      .map((r) => {
        expect(r.signatureValid).toBe(true);
        return JSON.parse(r.body) as { type: string; deploy?: { id: string; error?: { code: string } } };
      });
  const simPost = async (path: string, body: unknown) => {
    const res = await fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    rx = await Receiver.start();
    sim = await startSimulator({
      host: '127.0.0.1',
      port: 0,
      processingSeconds: 0.2,
      reviewSeconds: 0.2,
      partSizeBytes: 256 * 1024,
    });
    dir = mkdtempSync(join(tmpdir(), 'ascend-notify-'));
    svc = await createService({
      dataDir: dir,
      databaseUrl: databaseUrlOf(ctx.location()),
      apiUrl: sim.url,
      workers: 2,
      sleep: quickSleep,
      pollMs: 20,
      monitorEveryMs: 0,
      log: { write: (l) => void logs.push(l) },
      extraTrustedRoots: [SAMPLE_ROOT_SHA256],
      allowPrivateNotifyTargets: true,
      notifyPost: httpPost({ allowPrivate: true }, realSleep, 5_000),
      notifyRetry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50 },
    });
    const { store, deps } = svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    t.owner = { authorization: `Bearer ${first.apiToken}` };
    t.releaser = await bearerFor(store, deps, first.team.id, 'releaser');
    t.other = await bearerFor(store, deps, (await createTeam(store, deps, 'Other')).id, 'owner');
    const k = sim.createKey({ role: 'ADMIN' });
    const res = await call('POST', '/api/v1/keys', t.owner, {
      name: 'sandbox',
      keyId: k.keyId,
      issuerId: k.issuerId,
      privateKey: k.privateKeyPem,
    });
    expect(res.statusCode).toBe(201);
    expect((await call('POST', '/api/v1/apps/sync', t.owner)).statusCode).toBe(200);
  });
  afterAll(async () => {
    await svc?.close({ timeoutMs: 2000 });
    await sim?.close();
    await rx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('targets: admin-only and audited, validated, secret shown once, URL never shown, other teams see none', async () => {
    const body = { kind: 'webhook', name: 'ops', url: `${rx.url}/hook/p?k=v` };
    const denied = await call('POST', '/api/v1/notifications/targets', t.releaser, body);
    expect(denied.statusCode).toBe(403);
    const bad = await call('POST', '/api/v1/notifications/targets', t.owner, { ...body, url: 'ftp://example.com/' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.code).toBe('NOTIFY_TARGET_INVALID');
    const unknownField = await call('POST', '/api/v1/notifications/targets', t.owner, { ...body, extra: 1 });
    expect(unknownField.statusCode).toBe(400);
    const created = await call('POST', '/api/v1/notifications/targets', t.owner, body);
    expect(created.statusCode).toBe(201);
    hookId = created.json().id;
    secret = created.json().secret;
    expect(secret).toMatch(/^whsec_/);
    rx.secret = secret;
    const slack = await call('POST', '/api/v1/notifications/targets', t.owner, {
      kind: 'slack',
      name: 'slack',
      url: `${rx.url}/services/T1/B1/abc`,
      events: ['deploy.failed', 'alert.opened'],
    });
    expect(slack.statusCode).toBe(201);
    expect(slack.json().secret).toBeUndefined();
    slackId = slack.json().id;
    const list = await call('GET', '/api/v1/notifications/targets', t.releaser);
    expect(list.json().data.map((x: { name: string; host: string }) => [x.name, x.host])).toEqual([
      ['ops', '127.0.0.1'],
      ['slack', '127.0.0.1'],
    ]);
    expect((await call('GET', '/api/v1/notifications/targets', t.other)).json().data).toEqual([]);
    expect((await call('POST', `/api/v1/notifications/targets/${hookId}/test`, t.other)).statusCode).toBe(404);
    expect((await call('DELETE', `/api/v1/notifications/targets/${hookId}`, t.other)).statusCode).toBe(404);
    // Targets are not settings: a URL put there would be stored in plain text.
    const asSetting = await call('PUT', '/api/v1/settings', t.owner, { notificationTargets: [{ url: rx.url }] });
    expect(asSetting.statusCode).toBe(400);
    expect(asSetting.json().error.remedy).toContain('/api/v1/notifications/targets');
    const audit = (await call('GET', '/api/v1/audit?limit=50', t.owner)).json().data as { action: string }[];
    expect(audit.filter((a) => a.action === 'notify.target.add')).toHaveLength(3);
  });

  it('"send test" reaches the target signed, through a 500 and a retry, and the attempts show in the API', async () => {
    rx.answer(500);
    const res = await call('POST', `/api/v1/notifications/targets/${hookId}/test`, t.owner);
    expect(res.statusCode).toBe(202);
    const all = await settled();
    const d = all.find((x) => x.id === res.json().deliveryId)!;
    expect(d).toMatchObject({ targetId: hookId, event: 'test', state: 'delivered', attempts: 2 });
    expect(d.history.map((a) => a.statusCode)).toEqual([500, 200]);
    expect(webhookEvents().map((e) => e.type)).toEqual(['test', 'test']);
    expect((await call('GET', '/api/v1/notifications/deliveries', t.other)).json().data).toEqual([]);
    rx.received.length = 0;
  });

  it('a deploy notifies started, processed, in TestFlight and succeeded once each; a failed one with its code', async () => {
    const upload = async (build: string) => {
      const ipa = join(dir, `App-${build}.ipa`);
      await buildIpa(ipa, { bundleId: APP, version: '1.1.0', build, payloadBytes: 300 * 1024 });
      const res = await svc.app.inject({
        method: 'POST',
        url: '/api/v1/artifacts',
        headers: { ...t.releaser, 'content-type': 'application/octet-stream', 'x-filename': 'App.ipa' },
        payload: readFileSync(ipa),
      });
      expect(res.statusCode).toBe(201);
      return res.json().id as string;
    };
    const finish = async (id: string) => {
      for (let i = 0; i < 600; i++) {
        const d = (await call('GET', `/api/v1/deploys/${id}`, t.owner)).json();
        if (['succeeded', 'failed', 'awaiting_approval'].includes(d.state)) return d;
        await realSleep(25);
      }
      throw new Error('deploy did not finish');
    };
    const artifactId = await upload('21');
    const ok = (
      await call('POST', '/api/v1/deploys', t.releaser, {
        artifactId,
        groups: ['External Testers'],
        whatsNew: 'Notify <!here>',
      })
    ).json();
    const done = await finish(ok.id);
    expect(done.error ?? null).toBeNull();
    expect(done.state).toBe('succeeded');
    // A group the app does not have: refused by the preflight, so the deploy fails with its code.
    const other = await upload('22');
    const again = (await call('POST', '/api/v1/deploys', t.releaser, { artifactId: other, groups: ['Nobody'] })).json();
    const failed = await finish(again.id);
    expect(failed.state).toBe('failed');
    // The worker stores the notification just after the deploy's final state.
    const told = (id: string, type: string) => webhookEvents().some((e) => e.deploy?.id === id && e.type === type);
    await settled(() => told(ok.id, 'deploy.succeeded') && told(again.id, 'deploy.failed'));
    const events = webhookEvents();
    expect(events.filter((e) => e.deploy?.id === ok.id).map((e) => e.type)).toEqual([
      'deploy.started',
      'deploy.processed',
      'deploy.in_testflight',
      'deploy.succeeded',
    ]);
    const ofFailed = events.filter((e) => e.deploy?.id === again.id);
    expect(ofFailed.map((e) => e.type)).toEqual(['deploy.started', 'deploy.failed']);
    expect(ofFailed[1]!.deploy!.error!.code).toBe(failed.error.code);
    // A deploy held for an approval tells the team it waits, naming the step.
    expect((await call('PUT', '/api/v1/settings', t.owner, { approvals: { betaReview: true } })).statusCode).toBe(200);
    const gated = (
      await call('POST', '/api/v1/deploys', t.releaser, {
        artifactId: await upload('23'),
        groups: ['External Testers'],
        whatsNew: 'Gate',
        betaReview: true,
      })
    ).json();
    expect((await finish(gated.id)).state).toBe('awaiting_approval');
    await settled(() => told(gated.id, 'deploy.awaiting_approval'));
    const waiting = webhookEvents().filter((e) => e.deploy?.id === gated.id);
    expect(waiting.map((e) => e.type)).toEqual([
      'deploy.started',
      'deploy.processed',
      'deploy.in_testflight',
      'deploy.awaiting_approval',
    ]);
    expect((waiting[3]!.deploy as { step?: string }).step).toBe('betaReview');
    // The Slack target wants failures only: one message, naming the code.
    const slack = rx.received.filter((r) => r.path === '/services/T1/B1/abc');
    expect(slack).toHaveLength(1);
    expect(JSON.parse(slack[0]!.body).text).toContain(failed.error.code);
    rx.received.length = 0;
  });

  it('across the simulator clock’s boundaries an alert appears once, is notified once, and resolves once', async () => {
    const ensure = await call('POST', '/api/v1/signing/ensure', t.owner, { bundleId: APP });
    expect(ensure.statusCode).toBe(200);
    const cert = ensure.json().certificate as { id: string; expirationDate: string };
    const expires = Date.parse(cert.expirationDate);
    const check = async () => expect((await call('POST', '/api/v1/alerts/check', t.owner, {})).statusCode).toBe(200);
    const ofCert = () =>
      webhookEvents()
        .map((e) => e as unknown as { type: string; alert?: { code: string; subject: string } })
        .filter((e) => e.alert?.subject.includes(cert.id) && e.alert.code.startsWith('CERTIFICATE_'))
        .map((e) => `${e.type} ${e.alert!.code}`);
    const openCodes = async () =>
      ((await call('GET', '/api/v1/alerts?state=open', t.owner)).json().data as { code: string; subject: string }[])
        .filter((a) => a.subject.includes(cert.id))
        .map((a) => a.code);
    // 31 days before expiry: outside the 30-day window, nothing.
    await simPost('/__sim/clock', { now: new Date(expires - 31 * DAY).toISOString() });
    await check();
    await settled();
    expect(ofCert()).toEqual([]);
    // 29 days before: expiring, checked twice, one alert and one notification.
    await simPost('/__sim/clock', { now: new Date(expires - 29 * DAY).toISOString() });
    await check();
    await check();
    await settled();
    expect(await openCodes()).toEqual(['CERTIFICATE_EXPIRING']);
    expect(ofCert()).toEqual(['alert.opened CERTIFICATE_EXPIRING']);
    // Past expiry: "expiring" resolves, "expired" opens; a second check sends nothing more.
    await simPost('/__sim/clock', { now: new Date(expires + DAY).toISOString() });
    await check();
    await check();
    await settled();
    expect(await openCodes()).toEqual(['CERTIFICATE_EXPIRED']);
    expect(ofCert().sort()).toEqual([
      'alert.opened CERTIFICATE_EXPIRED',
      'alert.opened CERTIFICATE_EXPIRING',
      'alert.resolved CERTIFICATE_EXPIRING',
    ]);
    // Fixed (the certificate revoked): resolved once.
    expect((await call('POST', `/api/v1/signing/${cert.id}/revoke`, t.owner, {})).statusCode).toBe(200);
    await check();
    await check();
    await settled();
    expect(await openCodes()).toEqual([]);
    expect(
      ofCert()
        .filter((e) => e.startsWith('alert.resolved'))
        .sort(),
    ).toEqual(['alert.resolved CERTIFICATE_EXPIRED', 'alert.resolved CERTIFICATE_EXPIRING']);
    expect(ofCert()).toHaveLength(4);
  });

  it('an expired agreement opens one alert, notified once, blocks deploys on the key, and resolves once', async () => {
    rx.received.length = 0;
    const issuerId = ((await call('GET', '/api/v1/keys', t.owner)).json().data[0] as { issuerId: string }).issuerId;
    const check = async () => expect((await call('POST', '/api/v1/alerts/check', t.owner, {})).statusCode).toBe(200);
    const agreement = () =>
      webhookEvents()
        .map((e) => e as unknown as { type: string; alert?: { code: string } })
        .filter((e) => e.alert?.code === 'AGREEMENT_MISSING')
        .map((e) => e.type);
    await simPost('/__sim/agreements', { issuerId, state: 'expired' });
    await check();
    await check();
    await settled();
    expect(agreement()).toEqual(['alert.opened']);
    const blocked = await call('POST', '/api/v1/deploys', t.releaser, { artifactId: 'art_none' });
    expect(blocked.json().error.code).toBe('KEY_BLOCKED');
    await simPost('/__sim/agreements', { issuerId, state: 'active' });
    await check();
    await check();
    await settled();
    expect(agreement()).toEqual(['alert.opened', 'alert.resolved']);
  });

  it('a removed target gets nothing more, and no answer or log line holds its secret or URL path', async () => {
    expect((await call('DELETE', `/api/v1/notifications/targets/${slackId}`, t.owner)).statusCode).toBe(204);
    expect((await call('GET', '/api/v1/notifications/targets', t.owner)).json().data).toHaveLength(1);
    const shown = bodies.filter((b) => !b.includes('"secret":"whsec_')).join('\n');
    expect(bodies.filter((b) => b.includes(secret))).toHaveLength(1);
    for (const text of [shown, logs.join('\n')]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain('/hook/p');
      expect(text).not.toContain('B1/abc');
    }
  });
});
