import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/clock.js';
import { AscendError } from '../../src/core/errors.js';
import { verifyHmacSha256 } from '../../src/core/hmac.js';
import { tempDir } from '../../test/helpers/temp.js';
import { WEBHOOK_SECRET, webhookSim } from '../../test/helpers/webhook-sim.js';
import { createSimulator, type SimulatorOptions } from '../index.js';
import { parseWebhookFaults } from './faults.js';

const SECRET = WEBHOOK_SECRET;

/** Pings go to a recorder answering 200 (or over real HTTP with `http`); `createHook` gives the new id. */
function setup(options: SimulatorOptions & { http?: boolean } = {}) {
  const { http, ...rest } = options;
  const s = webhookSim({ role: 'ADMIN', http, options: rest });
  return { ...s, createHook: (url?: string) => s.hookId(url ? { url } : {}) };
}

describe('--webhook-faults', () => {
  it('parses drop, duplicate, delay (always or with a probability) and reorder; a bad spec is one USAGE line', () => {
    expect(parseWebhookFaults('drop=0.1,duplicate=0.2,delay=5000:0.5,reorder=0.3')).toEqual({
      drop: 0.1,
      duplicate: 0.2,
      delayMs: 5000,
      delayP: 0.5,
      reorder: 0.3,
    });
    expect(parseWebhookFaults('delay=250')).toMatchObject({ delayMs: 250, delayP: 1 });
    expect(parseWebhookFaults(undefined)).toMatchObject({ drop: 0, delayMs: 0 });
    for (const bad of ['drop=2', 'lose=0.1', 'delay=soon', 'delay=10:1.5', 'duplicate=', 'reorder']) {
      const err = (() => {
        try {
          parseWebhookFaults(bad);
        } catch (e) {
          return e as AscendError;
        }
      })();
      expect(err, bad).toBeInstanceOf(AscendError);
      expect(err!.code).toBe('USAGE');
      expect(err!.message).toMatch(/^--webhook-faults: .*use drop=P,duplicate=P,delay=MS\[:P\],reorder=P/);
      expect(err!.message).not.toContain('\n');
    }
    expect(() => createSimulator({ webhookFaults: 'drop=7' })).toThrow(/--webhook-faults/);
  });

  it('duplicate: the same signed request arrives twice, one delivery is recorded', async () => {
    const { createHook, ping, sim, received } = setup({ webhookFaults: 'duplicate=1' });
    await ping(await createHook());
    await sim.webhooks.idle();
    expect(received).toHaveLength(2);
    expect(received[1]).toEqual(received[0]);
    expect(verifyHmacSha256(SECRET, received[1]!.body, received[1]!.headers['x-apple-signature'])).toBe(true);
    expect(sim.store.list('webhookDeliveries')).toHaveLength(1);
  });

  it('drop: the first attempt never arrives, is recorded FAILED, and the retry a minute later does', async () => {
    const { createHook, ping, sim, received, advance } = setup({ webhookFaults: 'drop=1' });
    await ping(await createHook());
    await sim.webhooks.idle();
    expect(received).toHaveLength(0);
    const [d] = sim.store.list('webhookDeliveries');
    expect(d!.attributes).toMatchObject({ deliveryState: 'FAILED', errorMessage: 'The request timed out' });
    await advance(60);
    expect(received).toHaveLength(1);
    expect(d!.attributes.deliveryState).toBe('SUCCEEDED');
  });

  it('delay: the delivery waits the given time on the simulator clock', async () => {
    const { createHook, ping, sim, received, advance } = setup({ webhookFaults: 'delay=5000' });
    await ping(await createHook());
    await sim.webhooks.idle();
    expect(received).toHaveLength(0);
    expect(sim.store.list('webhookDeliveries')[0]!.attributes.deliveryState).toBe('PENDING');
    await advance(4);
    expect(received).toHaveLength(0);
    await advance(1);
    expect(received).toHaveLength(1);
  });

  it('reorder: a held-back delivery goes right after the next one to the same webhook', async () => {
    // A seed whose first delivery draws reorder (4th draw < 0.5) and whose second does not (8th draw).
    const seed = [...Array(200).keys()].find((s) => {
      const r = seededRandom(s);
      const d = Array.from({ length: 8 }, r);
      return d[3]! < 0.5 && d[7]! >= 0.5;
    })!;
    const { createHook, ping, sim, advance, order } = setup({ webhookFaults: 'reorder=0.5', faultSeed: seed });
    const id = await createHook();
    await ping(id);
    await sim.webhooks.idle();
    expect(order()).toEqual([]);
    await advance(1);
    await ping(id);
    await sim.webhooks.idle();
    expect(order()).toEqual([1, 0]);
  });

  it('a held-back delivery with nothing to overtake it goes after a minute', async () => {
    const { createHook, ping, sim, advance, order } = setup({ webhookFaults: 'reorder=1' });
    await ping(await createHook());
    await sim.webhooks.idle();
    await advance(59);
    expect(order()).toEqual([]);
    await advance(1);
    expect(order()).toEqual([0]);
  });

  it('the same --fault-seed replays the same deliveries; another seed does not', async () => {
    const FAULTS = 'drop=0.3,duplicate=0.3,delay=20000:0.5,reorder=0.3';
    const runWith = async (faultSeed: number) => {
      const { createHook, ping, advance, order, sim } = setup({ webhookFaults: FAULTS, faultSeed });
      const id = await createHook();
      for (let i = 0; i < 12; i++) {
        await ping(id);
        await advance(5);
      }
      for (let i = 0; i < 5; i++) await advance(60);
      await sim.webhooks.idle();
      return order();
    };
    const a = await runWith(7);
    expect(a.length).toBeGreaterThanOrEqual(12);
    expect(new Set(a).size).toBe(12); // every ping arrived in the end
    expect(a).not.toEqual([...Array(12).keys()]); // and not simply in order, once each
    expect(await runWith(7)).toEqual(a);
    expect(await runWith(8)).not.toEqual(a);
  });
});

describe('webhook deliveries over real HTTP', () => {
  it('a local receiver gets the POST with the signature over the exact bytes; a 500 is recorded', async () => {
    const got: { body: string; signature: string | undefined; type: string | undefined }[] = [];
    const receiver = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push({
          body: Buffer.concat(chunks).toString('utf8'),
          signature: req.headers['x-apple-signature'] as string | undefined,
          type: req.headers['content-type'],
        });
        res.statusCode = got.length === 1 ? 500 : 200;
        res.end(got.length === 1 ? 'receiver down' : 'thanks');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const { port } = receiver.address() as AddressInfo;
    const { createHook, ping, sim } = setup({ http: true });
    await sim.listen();
    try {
      const id = await createHook(`http://127.0.0.1:${port}/asc-hook`);
      await ping(id);
      await ping(id);
      await sim.webhooks.idle();
      expect(got).toHaveLength(2);
      for (const g of got) {
        expect(g.type).toBe('application/json');
        expect(verifyHmacSha256(SECRET, g.body, g.signature)).toBe(true);
        expect(verifyHmacSha256(SECRET, `${g.body} `, g.signature)).toBe(false);
      }
      const states = sim.store.list('webhookDeliveries').map((d) => d.attributes);
      expect(states[0]).toMatchObject({
        deliveryState: 'FAILED',
        response: { httpStatusCode: 500, body: 'receiver down' },
      });
      expect(states[1]).toMatchObject({
        deliveryState: 'SUCCEEDED',
        response: { httpStatusCode: 200, body: 'thanks' },
      });
      // A receiver that is gone: the refused connection is the recorded error.
      await new Promise((r) => receiver.close(r));
      await ping(id);
      await sim.webhooks.idle();
      expect(sim.store.list('webhookDeliveries')[2]!.attributes).toMatchObject({
        deliveryState: 'FAILED',
        errorMessage: expect.stringContaining('ECONNREFUSED'),
      });
    } finally {
      await sim.close();
      if (receiver.listening) await new Promise((r) => receiver.close(r));
    }
  });
});

describe('webhooks in the state file', () => {
  it('survive a restart with their secret (deliveries after it are signed with it) and never show it', async () => {
    const dir = tempDir('ascend-sim-webhooks-');
    const stateFile = join(dir, 'state.json');
    const first = setup({ stateFile });
    const id = await first.createHook();
    await first.ping(id);
    await first.sim.webhooks.idle();
    const second = setup({ stateFile });
    const key = second.sim.createKey({ role: 'ADMIN' });
    expect(key.keyId).toBeTruthy();
    const read = await second.req('GET', `/v1/webhooks/${id}/deliveries`);
    expect(read.json().data).toHaveLength(1);
    expect((await second.req('GET', `/v1/webhooks/${id}`)).body).not.toContain(SECRET);
    await second.ping(id);
    await second.sim.webhooks.idle();
    expect(verifyHmacSha256(SECRET, second.received[0]!.body, second.received[0]!.headers['x-apple-signature'])).toBe(
      true,
    );
  });
});
