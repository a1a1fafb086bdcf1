import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../../simulator/index.js';
import { FakeClock } from '../../core/clock.js';
import { verifyHmacSha256 } from '../../core/hmac.js';
import { apiKeyOf } from '../../credentials/key.js';
import { createTokenProvider } from '../../credentials/token.js';
import { type AscClient, createAscClient } from '../http/client.js';
import { AscApiError } from '../http/errors.js';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  pingWebhook,
  redeliverWebhookDelivery,
  updateWebhook,
} from './webhooks.js';

const APP = '1000000001';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

/** The module against a listening simulator whose deliveries go to a recorder that fails the first one. */
async function setup(): Promise<{ sim: Simulator; client: AscClient; bodies: { body: string; sig?: string }[] }> {
  const clock = new FakeClock(Date.now());
  const bodies: { body: string; sig?: string }[] = [];
  const sim = createSimulator({
    clock,
    webhookSender: async (req) => {
      bodies.push({ body: req.body, sig: req.headers['x-apple-signature'] });
      return { status: bodies.length === 1 ? 500 : 204, body: '' };
    },
  });
  await sim.listen();
  cleanup.push(() => sim.close());
  const key = sim.createKey({ role: 'ADMIN' });
  const client = createAscClient({
    baseUrl: sim.url,
    tokens: createTokenProvider(apiKeyOf(key, 'test'), { clock }),
    clock,
    sleep: clock.sleep,
    fetch: (u, i) => fetch(u, i),
  });
  return { sim, client, bodies };
}

describe('webhooks resource module', () => {
  it('creates, lists, reads, updates and deletes a webhook; the secret never comes back', async () => {
    const { client } = await setup();
    const made = await createWebhook(client, {
      appId: APP,
      name: 'Build System',
      url: 'https://ci.example.com/hooks/asc',
      secret: 'module secret',
      eventTypes: ['BUILD_UPLOAD_STATE_UPDATED'],
      enabled: true,
    });
    expect(made.attributes).toEqual({
      name: 'Build System',
      url: 'https://ci.example.com/hooks/asc',
      eventTypes: ['BUILD_UPLOAD_STATE_UPDATED'],
      enabled: true,
    });
    expect((await listWebhooks(client, APP)).map((w) => w.id)).toEqual([made.id]);
    const updated = await updateWebhook(client, made.id, { enabled: false, secret: 'rotated' });
    expect(updated.attributes).toMatchObject({ enabled: false, name: 'Build System' });
    expect(JSON.stringify(await getWebhook(client, made.id))).not.toMatch(/secret|rotated/);
    await deleteWebhook(client, made.id);
    const gone = await getWebhook(client, made.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(AscApiError);
    expect((gone as AscApiError).status).toBe(404);
  });

  it('pings, lists deliveries with their events and state filter, and redelivers one', async () => {
    const { sim, client, bodies } = await setup();
    const hook = await createWebhook(client, {
      appId: APP,
      name: 'pinged',
      url: 'https://ci.example.com/hooks/asc',
      secret: 'ping secret',
      eventTypes: ['BUILD_UPLOAD_STATE_UPDATED'],
      enabled: true,
    });
    expect((await pingWebhook(client, hook.id)).id).toMatch(/[0-9a-f-]{36}/);
    await sim.webhooks.idle();
    const [first] = await listWebhookDeliveries(client, hook.id);
    expect(first!.delivery.attributes).toMatchObject({ deliveryState: 'FAILED', response: { httpStatusCode: 500 } });
    expect(first!.event?.attributes).toMatchObject({ ping: true, payload: bodies[0]!.body });
    expect(verifyHmacSha256('ping secret', bodies[0]!.body, bodies[0]!.sig)).toBe(true);
    const again = await redeliverWebhookDelivery(client, first!.delivery.id);
    expect(again.attributes?.redelivery).toBe(true);
    await sim.webhooks.idle();
    const succeeded = await listWebhookDeliveries(client, hook.id, { state: ['SUCCEEDED'] });
    expect(succeeded.map((d) => d.delivery.id)).toEqual([again.id]);
    expect(succeeded[0]!.event?.id).toBe(first!.event?.id);
    expect(await listWebhookDeliveries(client, hook.id, { createdBefore: '2000-01-01T00:00:00Z' })).toEqual([]);
  });
});
