import { expect } from 'vitest';
import { createSimulator, type SimulatorOptions } from '../../simulator/index.js';
import type { OutgoingRequest } from '../../simulator/webhooks/index.js';
import { FakeClock } from '../../src/core/clock.js';
import { appleToken } from './jwt.js';

export const WEBHOOK_APP = '1000000001';
export const WEBHOOK_SECRET = 'a webhook secret of the tests';

/**
 * An in-process simulator on a fake clock whose webhook deliveries go to a recorder answering `answers` in
 * turn (0 = connection refused; then 200), or over real HTTP with `http: true`.
 */
export function webhookSim(
  opts: { answers?: number[]; role?: string; http?: boolean; options?: SimulatorOptions } = {},
) {
  const clock = new FakeClock(Date.UTC(2026, 5, 1));
  const received: OutgoingRequest[] = [];
  const answers = [...(opts.answers ?? [])];
  const sim = createSimulator({
    clock,
    ...opts.options,
    webhookSender: opts.http
      ? undefined
      : async (req) => {
          received.push(req);
          const status = answers.shift() ?? 200;
          if (status === 0) throw new Error('connect ECONNREFUSED');
          return { status, body: status === 200 ? 'ok' : 'x'.repeat(5000) };
        },
  });
  const key = sim.createKey({ role: opts.role ?? 'APP_MANAGER' });
  const req = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
    sim.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${appleToken(key, clock.now() / 1000)}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      payload: body ? JSON.stringify(body) : undefined,
    });
  const createHook = (attributes: Record<string, unknown> = {}, app = WEBHOOK_APP) =>
    req('POST', '/v1/webhooks', {
      data: {
        type: 'webhooks',
        attributes: {
          name: 'CI',
          secret: WEBHOOK_SECRET,
          url: 'https://hooks.example.com/asc',
          enabled: true,
          eventTypes: ['BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED', 'APP_STORE_VERSION_APP_VERSION_STATE_UPDATED'],
          ...attributes,
        },
        relationships: { app: { data: { type: 'apps', id: app } } },
      },
    });
  /** A webhook made (201) with these attributes: its id. */
  const hookId = async (attributes: Record<string, unknown> = {}) => {
    const r = await createHook(attributes);
    expect(r.statusCode, r.body).toBe(201);
    return r.json().data.id as string;
  };
  const ping = async (id: string) => {
    const r = await req('POST', '/v1/webhookPings', {
      data: { type: 'webhookPings', relationships: { webhook: { data: { type: 'webhooks', id } } } },
    });
    expect(r.statusCode, r.body).toBe(201);
  };
  /** Answers export compliance for the app's first build: its external beta state moves on. */
  const moveBetaState = async () => {
    const build = sim.store.list('builds').find((b) => b.rels.app === WEBHOOK_APP)!;
    const r = await req('PATCH', `/v1/builds/${build.id}`, {
      data: { type: 'builds', id: build.id, attributes: { usesNonExemptEncryption: false } },
    });
    expect(r.statusCode, r.body).toBe(200);
    await sim.webhooks.idle();
    return build;
  };
  /** Moves the simulator's clock as a client would, then sends what fell due. */
  const advance = async (seconds: number) => {
    await sim.app.inject({ method: 'POST', url: '/__sim/clock', payload: { advanceSeconds: seconds } });
    await sim.webhooks.pump();
  };
  /** Which recorded event (by creation order) each received request carried. */
  const order = () => {
    const events = sim.store.list('webhookEvents').map((e) => e.attributes.payload);
    return received.map((r) => events.indexOf(r.body));
  };
  return { sim, clock, req, createHook, hookId, ping, received, moveBetaState, advance, order };
}
