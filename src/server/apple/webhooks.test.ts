import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../simulator/index.js';
import { realSleep } from '../../core/clock.js';
import { apiKeyOf } from '../../credentials/key.js';
import { signBody } from '../webhooks/signature.js';
import { AscClients } from './clients.js';
import { ascWebhooks } from './webhooks.js';

const APP = '1000000001';
const EVENTS = ['BUILD_UPLOAD_STATE_UPDATED', 'APP_STORE_VERSION_APP_VERSION_STATE_UPDATED'];

describe('AppleWebhooks over src/asc/resources/webhooks.ts, against the simulator', () => {
  let sim: Simulator;
  let clients: AscClients;
  const received: { url: string; signature: string; body: string }[] = [];

  beforeAll(async () => {
    sim = await startSimulator({
      host: '127.0.0.1',
      port: 0,
      webhookSender: async (req) => {
        received.push({ url: req.url, signature: req.headers['x-apple-signature'] ?? '', body: req.body });
        return { status: 202, body: '' };
      },
    });
    clients = new AscClients({ baseUrl: sim.url, sleep: (ms, s) => realSleep(ms / 50, s) });
  });
  afterAll(() => sim.close());

  it('creates, lists, changes (secret included) and deletes a webhook; a second delete is not an error', async () => {
    const key = apiKeyOf(sim.createKey({ role: 'APP_MANAGER' }), 'request');
    const hooks = ascWebhooks(clients);
    const made = await hooks.create(key, {
      ascAppId: APP,
      name: 'ascend test',
      url: 'https://ci.example.com/hooks/apple/whk_a',
      secret: 'first-secret',
      eventTypes: EVENTS,
    });
    expect(made).toMatchObject({ url: 'https://ci.example.com/hooks/apple/whk_a', enabled: true });
    expect(await hooks.list(key, APP)).toEqual([{ ...made, eventTypes: EVENTS }]);
    await hooks.update(key, made.id, { secret: 'second-secret', url: 'https://ci.example.com/hooks/apple/whk_b' });
    expect((await hooks.list(key, APP))[0]!.url).toBe('https://ci.example.com/hooks/apple/whk_b');
    // A ping is signed with the secret Apple now holds: the changed one.
    await clients.for(key).request({
      method: 'POST',
      path: '/v1/webhookPings',
      body: { data: { type: 'webhookPings', relationships: { webhook: { data: { type: 'webhooks', id: made.id } } } } },
    });
    await sim.webhooks.idle();
    const ping = received.at(-1)!;
    expect(ping.signature).toBe(`hmacsha256=${signBody('second-secret', Buffer.from(ping.body))}`);
    await hooks.delete(key, made.id);
    expect(await hooks.list(key, APP)).toEqual([]);
    await hooks.delete(key, made.id);
  });

  it('reads nothing for a resource type it does not know', async () => {
    const key = apiKeyOf(sim.createKey({ role: 'APP_MANAGER' }), 'request');
    expect(await ascWebhooks(clients).readState(key, { type: 'betaFeedbackCrashSubmissions', id: 'x' })).toBeNull();
  });
});
