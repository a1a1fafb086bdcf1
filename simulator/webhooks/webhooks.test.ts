import { describe, expect, it, vi } from 'vitest';
import { verifyHmacSha256 } from '../../src/core/hmac.js';
import { appleToken } from '../../test/helpers/jwt.js';
import { WEBHOOK_APP, WEBHOOK_SECRET, webhookSim } from '../../test/helpers/webhook-sim.js';

const APP = WEBHOOK_APP;
const SECRET = WEBHOOK_SECRET;
const setup = webhookSim;

describe('simulator: webhooks CRUD, validated like every route', () => {
  it('creates, reads, lists per app, updates and deletes; the secret is never returned', async () => {
    const { req, createHook } = setup();
    const made = await createHook();
    expect(made.statusCode, made.body).toBe(201);
    const hook = made.json().data;
    expect(hook.attributes).toEqual({
      name: 'CI',
      url: 'https://hooks.example.com/asc',
      enabled: true,
      eventTypes: ['BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED', 'APP_STORE_VERSION_APP_VERSION_STATE_UPDATED'],
    });
    expect(hook.relationships.app.data).toEqual({ type: 'apps', id: APP });
    const got = await req('GET', `/v1/webhooks/${hook.id}?include=app`);
    expect(got.statusCode).toBe(200);
    expect(got.json().included[0].id).toBe(APP);
    const list = await req('GET', `/v1/apps/${APP}/webhooks`);
    expect(list.json().data.map((w: { id: string }) => w.id)).toEqual([hook.id]);
    expect((await req('GET', '/v1/apps/1000000002/webhooks')).json().data).toEqual([]);
    const patched = await req('PATCH', `/v1/webhooks/${hook.id}`, {
      data: { type: 'webhooks', id: hook.id, attributes: { enabled: false, secret: 'rotated', name: 'CI 2' } },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().data.attributes).toMatchObject({ enabled: false, name: 'CI 2' });
    for (const body of [made.body, got.body, list.body, patched.body]) {
      expect(body).not.toContain(SECRET);
      expect(body).not.toContain('rotated');
      expect(body).not.toContain('"secret"');
    }
    expect((await req('DELETE', `/v1/webhooks/${hook.id}`)).statusCode).toBe(204);
    expect((await req('GET', `/v1/webhooks/${hook.id}`)).statusCode).toBe(404);
  });

  it("refuses bodies Apple's schema refuses, empty event types, bad URLs, an 11th webhook and unknown apps", async () => {
    const { req, createHook } = setup();
    const noSecret = await req('POST', '/v1/webhooks', {
      data: {
        type: 'webhooks',
        attributes: { name: 'x', url: 'https://a.example', enabled: true, eventTypes: [] },
        relationships: { app: { data: { type: 'apps', id: APP } } },
      },
    });
    expect(noSecret.statusCode).toBe(409);
    expect(noSecret.json().errors[0]).toMatchObject({
      code: 'ENTITY_ERROR.ATTRIBUTE.REQUIRED',
      source: { pointer: '/data/attributes/secret' },
    });
    const badType = await createHook({ eventTypes: ['BUILD_DONE'] });
    expect(badType.statusCode).toBe(409);
    expect(badType.json().errors[0].code).toBe('ENTITY_ERROR.ATTRIBUTE.INVALID');
    const empty = await createHook({ eventTypes: [] });
    expect(empty.statusCode).toBe(409);
    expect(empty.json().errors[0].source.pointer).toBe('/data/attributes/eventTypes');
    const ftp = await createHook({ url: 'ftp://files.example.com/' });
    expect(ftp.json().errors[0].source.pointer).toBe('/data/attributes/url');
    const unknownApp = await createHook({}, '999');
    expect(unknownApp.statusCode).toBe(409);
    for (let i = 0; i < 10; i++) expect((await createHook({ name: `h${i}` })).statusCode).toBe(201);
    const eleventh = await createHook({ name: 'h10' });
    expect(eleventh.statusCode).toBe(409);
    expect(eleventh.json().errors[0].detail).toContain('at most 10');
    const badFilter = await req('GET', `/v1/apps/${APP}/webhooks?filter[name]=x`);
    expect(badFilter.json().errors[0].code).toBe('PARAMETER_ERROR.ILLEGAL');
  });

  it('needs Account Holder, Admin or App Manager, even to read; another team sees a 404', async () => {
    const dev = setup({ role: 'DEVELOPER' });
    expect((await dev.createHook()).statusCode).toBe(403);
    expect((await dev.req('GET', `/v1/apps/${APP}/webhooks`)).statusCode).toBe(403);
    const { sim, req, createHook } = setup();
    const hook = (await createHook()).json().data;
    sim.store.teams.set('OTHERTEAM1', { id: 'OTHERTEAM1', name: 'Other', issuerId: 'other', agreementsSigned: true });
    const otherKey = sim.createKey({ team: 'OTHERTEAM1', role: 'ADMIN' });
    const other = await sim.app.inject({
      method: 'GET',
      url: `/v1/webhooks/${hook.id}`,
      headers: { authorization: `Bearer ${appleToken(otherKey, Date.UTC(2026, 5, 1) / 1000)}` },
    });
    expect(other.statusCode).toBe(404);
    expect((await req('GET', `/v1/webhooks/${hook.id}`)).statusCode).toBe(200);
  });
});

describe('simulator: webhook deliveries', () => {
  it("delivers a state change in Apple's shape, signed over the raw body with the webhook's secret", async () => {
    const { sim, createHook, received, moveBetaState, req } = setup();
    const hook = (await createHook()).json().data;
    // An unsubscribed type and a disabled webhook get nothing.
    await createHook({ name: 'uploads only', eventTypes: ['BUILD_UPLOAD_STATE_UPDATED'] });
    await createHook({ name: 'off', enabled: false });
    const build = await moveBetaState();
    expect(received).toHaveLength(1);
    const sent = received[0]!;
    expect(sent.url).toBe('https://hooks.example.com/asc');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(verifyHmacSha256(SECRET, sent.body, sent.headers['x-apple-signature'])).toBe(true);
    expect(verifyHmacSha256('another secret', sent.body, sent.headers['x-apple-signature'])).toBe(false);
    const detail = sim.store.get('buildBetaDetails', String(build.rels.buildBetaDetail))!;
    const payload = JSON.parse(sent.body);
    expect(payload).toEqual({
      data: {
        type: 'buildBetaDetailExternalBuildStateUpdated',
        id: expect.any(String),
        version: 1,
        attributes: {
          newExternalBuildState: 'READY_FOR_BETA_SUBMISSION',
          oldExternalBuildState: 'MISSING_EXPORT_COMPLIANCE',
        },
        relationships: { instance: { data: { type: 'buildBetaDetails', id: detail.id } } },
      },
    });
    const deliveries = await req('GET', `/v1/webhooks/${hook.id}/deliveries?include=event`);
    expect(deliveries.statusCode, deliveries.body).toBe(200);
    const [d] = deliveries.json().data;
    expect(d.attributes).toMatchObject({
      deliveryState: 'SUCCEEDED',
      redelivery: false,
      request: { url: 'https://hooks.example.com/asc' },
      response: { httpStatusCode: 200, body: 'ok' },
      sentDate: '2026-06-01T00:00:00.000Z',
    });
    const event = deliveries.json().included[0];
    expect(d.relationships.event.data).toEqual({ type: 'webhookEvents', id: event.id });
    expect(event.attributes).toMatchObject({
      eventType: 'BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED',
      ping: false,
      payload: sent.body,
    });
  });

  it('watches upload and App Store version states too, whatever changed them', async () => {
    const { sim, createHook, received } = setup();
    await createHook({ eventTypes: ['BUILD_UPLOAD_STATE_UPDATED', 'APP_STORE_VERSION_APP_VERSION_STATE_UPDATED'] });
    const upload = sim.store.insert({
      type: 'buildUploads',
      teamId: 'SANDBOXTM1',
      attributes: { state: { state: 'AWAITING_UPLOAD' } },
      rels: { app: APP },
    });
    const version = sim.store.insert({
      type: 'appStoreVersions',
      teamId: 'SANDBOXTM1',
      attributes: { appVersionState: 'WAITING_FOR_REVIEW' },
      rels: { app: APP },
    });
    sim.store.save();
    upload.attributes.state = { state: 'PROCESSING' };
    version.attributes.appVersionState = 'IN_REVIEW';
    sim.store.save();
    await sim.webhooks.idle();
    const payloads = received.map((r) => JSON.parse(r.body).data);
    expect(payloads).toEqual([
      expect.objectContaining({
        type: 'buildUploadStateUpdated',
        attributes: { newState: 'PROCESSING' },
        relationships: { instance: { data: { type: 'buildUploads', id: upload.id } } },
      }),
      expect.objectContaining({
        type: 'appStoreVersionAppVersionStateUpdated',
        attributes: { newValue: 'IN_REVIEW', oldValue: 'WAITING_FOR_REVIEW', timestamp: '2026-06-01T00:00:00.000Z' },
        relationships: { instance: { data: { type: 'appStoreVersions', id: version.id } } },
      }),
    ]);
  });

  it('a listening simulator tells what time alone changed (beta review by the clock) without any request', async () => {
    const ticks: (() => void)[] = [];
    const sleep = (_ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        ticks.push(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    const { sim, createHook, received, moveBetaState, req } = setup({ options: { sleep, reviewSeconds: 60 } });
    await sim.listen();
    try {
      await createHook();
      const build = await moveBetaState();
      const whatsNew = await req('POST', '/v1/betaBuildLocalizations', {
        data: {
          type: 'betaBuildLocalizations',
          attributes: { locale: 'en-US', whatsNew: 'Everything' },
          relationships: { build: { data: { type: 'builds', id: build.id } } },
        },
      });
      expect(whatsNew.statusCode, whatsNew.body).toBe(201);
      const submitted = await req('POST', '/v1/betaAppReviewSubmissions', {
        data: {
          type: 'betaAppReviewSubmissions',
          relationships: { build: { data: { type: 'builds', id: build.id } } },
        },
      });
      expect(submitted.statusCode, submitted.body).toBe(201);
      await sim.webhooks.idle();
      const states = () => received.map((r) => JSON.parse(r.body).data.attributes.newExternalBuildState);
      expect(states()).toEqual(['READY_FOR_BETA_SUBMISSION', 'WAITING_FOR_BETA_REVIEW']);
      sim.simClock.advance(60); // no request, no save: only the tick can notice
      await vi.waitFor(() => expect(ticks.length).toBeGreaterThan(0));
      ticks.shift()!();
      await vi.waitFor(() =>
        expect(states()).toEqual(['READY_FOR_BETA_SUBMISSION', 'WAITING_FOR_BETA_REVIEW', 'IN_BETA_REVIEW']),
      );
    } finally {
      await sim.close();
    }
  });

  it('retries a failed delivery on the schedule by the simulator clock, recording each answer (bounded)', async () => {
    const { req, createHook, received, moveBetaState, advance } = setup({ answers: [500, 0, 503, 200] });
    const hook = (await createHook()).json().data;
    await moveBetaState();
    const state = async () => (await req('GET', `/v1/webhooks/${hook.id}/deliveries`)).json().data[0].attributes;
    expect(await state()).toMatchObject({
      deliveryState: 'FAILED',
      errorMessage: 'The endpoint answered HTTP 500',
      response: { httpStatusCode: 500, body: 'x'.repeat(1024) },
    });
    await advance(59);
    expect(received).toHaveLength(1);
    await advance(1); // 1 min after the first failure
    expect(received).toHaveLength(2);
    expect((await state()).errorMessage).toBe('connect ECONNREFUSED');
    await advance(5 * 60); // 5 min after the second
    expect(received).toHaveLength(3);
    await advance(30 * 60); // 30 min after the third
    expect(received).toHaveLength(4);
    const done = await state();
    expect(done).toMatchObject({ deliveryState: 'SUCCEEDED', response: { httpStatusCode: 200, body: 'ok' } });
    expect(done.errorMessage).toBeUndefined();
    await advance(24 * 3600);
    expect(received).toHaveLength(4);
    // Every attempt carries the same body and signature: the receiver dedupes by the payload's id.
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
  });

  it('gives up after six attempts; a redelivery sends the same event again and is marked as one', async () => {
    const { req, createHook, received, moveBetaState, advance } = setup({ answers: [500, 500, 500, 500, 500, 500] });
    const hook = (await createHook()).json().data;
    await moveBetaState();
    for (const s of [60, 300, 1800, 7200, 21600, 86400]) await advance(s);
    expect(received).toHaveLength(6);
    const [failed] = (await req('GET', `/v1/webhooks/${hook.id}/deliveries?filter[deliveryState]=FAILED`)).json().data;
    expect(failed.attributes.deliveryState).toBe('FAILED');
    const again = await req('POST', '/v1/webhookDeliveries', {
      data: {
        type: 'webhookDeliveries',
        relationships: { template: { data: { type: 'webhookDeliveries', id: failed.id } } },
      },
    });
    expect(again.statusCode, again.body).toBe(201);
    expect(again.json().data.attributes).toMatchObject({ redelivery: true, deliveryState: 'PENDING' });
    expect(again.json().data.relationships.event.data.id).toBe(failed.relationships.event.data.id);
    await advance(0);
    expect(received).toHaveLength(7);
    expect(received[6]!.body).toBe(received[0]!.body);
    const all = (await req('GET', `/v1/webhooks/${hook.id}/deliveries`)).json().data;
    expect(all.map((d: { attributes: { deliveryState: string } }) => d.attributes.deliveryState)).toEqual([
      'FAILED',
      'SUCCEEDED',
    ]);
    const succeeded = await req('GET', `/v1/webhooks/${hook.id}/deliveries?filter[deliveryState]=SUCCEEDED`);
    expect(succeeded.json().data).toHaveLength(1);
    const unknown = await req('POST', '/v1/webhookDeliveries', {
      data: {
        type: 'webhookDeliveries',
        relationships: { template: { data: { type: 'webhookDeliveries', id: 'nope' } } },
      },
    });
    expect(unknown.statusCode).toBe(409);
  });

  it('pings: a signed test event marked ping, answered with a webhookPings resource', async () => {
    const { req, createHook, received, sim } = setup();
    const hook = (await createHook()).json().data;
    const pinged = await req('POST', '/v1/webhookPings', {
      data: { type: 'webhookPings', relationships: { webhook: { data: { type: 'webhooks', id: hook.id } } } },
    });
    expect(pinged.statusCode, pinged.body).toBe(201);
    expect(pinged.json().data.type).toBe('webhookPings');
    await sim.webhooks.idle();
    expect(received).toHaveLength(1);
    expect(verifyHmacSha256(SECRET, received[0]!.body, received[0]!.headers['x-apple-signature'])).toBe(true);
    expect(JSON.parse(received[0]!.body).data.type).toBe('webhookPingCreated');
    const d = (await req('GET', `/v1/webhooks/${hook.id}/deliveries?include=event`)).json();
    expect(d.included[0].attributes.ping).toBe(true);
    expect(d.included[0].attributes.eventType).toBeUndefined();
  });

  it('filters deliveries by created date; the range bounds are Apple’s GreaterThanOrEqualTo and LessThan', async () => {
    const { req, createHook, sim, advance } = setup();
    const hook = (await createHook()).json().data;
    const ping = () =>
      req('POST', '/v1/webhookPings', {
        data: { type: 'webhookPings', relationships: { webhook: { data: { type: 'webhooks', id: hook.id } } } },
      });
    await ping();
    await advance(3600);
    await ping();
    await sim.webhooks.idle();
    const base = `/v1/webhooks/${hook.id}/deliveries`;
    const later = await req('GET', `${base}?filter[createdDateGreaterThanOrEqualTo]=2026-06-01T01:00:00Z`);
    expect(later.statusCode, later.body).toBe(200);
    expect(later.json().data).toHaveLength(1);
    expect(later.json().data[0].attributes.createdDate).toBe('2026-06-01T01:00:00.000Z');
    const earlier = await req('GET', `${base}?filter[createdDateLessThan]=2026-06-01T01:00:00Z`);
    expect(earlier.json().data.map((d: { attributes: { createdDate: string } }) => d.attributes.createdDate)).toEqual([
      '2026-06-01T00:00:00.000Z',
    ]);
  });

  it('disabling a webhook stops its retries; the delivery stays FAILED saying why', async () => {
    const { req, createHook, received, moveBetaState, advance, sim } = setup({ answers: [500] });
    const hook = (await createHook()).json().data;
    await moveBetaState();
    await req('PATCH', `/v1/webhooks/${hook.id}`, {
      data: { type: 'webhooks', id: hook.id, attributes: { enabled: false } },
    });
    for (const s of [60, 300, 1800, 7200]) await advance(s);
    expect(received).toHaveLength(1);
    const [d] = sim.store.list('webhookDeliveries');
    expect(d!.attributes).toMatchObject({ deliveryState: 'FAILED', errorMessage: 'The webhook is disabled' });
    expect(d!.internal?.delivery?.nextAt).toBeUndefined();
  });

  it('deleting a webhook deletes its deliveries and stops its retries', async () => {
    const { req, createHook, received, moveBetaState, advance, sim } = setup({ answers: [500] });
    const hook = (await createHook()).json().data;
    await moveBetaState();
    expect((await req('DELETE', `/v1/webhooks/${hook.id}`)).statusCode).toBe(204);
    await advance(3600);
    expect(received).toHaveLength(1);
    expect(sim.store.list('webhookDeliveries')).toHaveLength(0);
    expect(sim.store.list('webhookEvents')).toHaveLength(0);
  });
});
