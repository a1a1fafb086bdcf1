import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator, writeKeyFile } from '../../../simulator/index.js';
import { createAscClient } from '../../asc/http/client.js';
import { createWebhook } from '../../asc/resources/webhooks.js';
import { apiKeyOf } from '../../credentials/key.js';
import { createTokenProvider } from '../../credentials/token.js';
import type { Io } from '../io.js';
import { main } from '../main.js';

const SECRET = 'cli webhook secret';
let sim: Simulator;
let dir: string;
let hookId: string;
const received: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ascend-webhooks-cli-'));
  sim = await startSimulator({
    webhookSender: async (req) => {
      received.push(req.body);
      return { status: received.length === 1 ? 502 : 200, body: 'ok' };
    },
  });
  writeKeyFile(join(dir, 'key.json'), sim.createKey({ role: 'APP_MANAGER' }));
  // Made through Apple's API (the CLI has no create: the server registers webhooks).
  const key = sim.createKey({ role: 'ADMIN' });
  const client = createAscClient({ baseUrl: sim.url, tokens: createTokenProvider(apiKeyOf(key, 'test')) });
  hookId = (
    await createWebhook(client, {
      appId: '1000000001',
      name: 'CI hook',
      url: 'https://ci.example.com/asc',
      secret: SECRET,
      eventTypes: ['BUILD_UPLOAD_STATE_UPDATED', 'APP_STORE_VERSION_APP_VERSION_STATE_UPDATED'],
      enabled: true,
    })
  ).id;
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), readStdin: async () => '' };
  const code = await main([...argv, '--api-url', sim.url], io, () => ({
    env: { HOME: dir, ASCEND_HOME: join(dir, 'home'), APP_STORE_CONNECT_API_KEY_PATH: join(dir, 'key.json') },
    cwd: dir,
    // A terminal: human tables unless --json (a pipe gets JSON by default).
    stdoutIsTTY: true,
    stderrIsTTY: true,
  }));
  const stdout = out.join('');
  const stderr = err.join('');
  expect(stdout + stderr).not.toContain(SECRET);
  return { code, stdout, stderr };
}

describe('ascend webhooks', () => {
  it('list --app: a table, or JSON with Apple’s attribute names; never the secret', async () => {
    const human = await run('webhooks', 'list', '--app', 'com.example.sandbox.one');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/ID\s+NAME\s+URL\s+ENABLED\s+EVENT TYPES/);
    expect(human.stdout).toContain('CI hook');
    const json = await run('webhooks', 'list', '--app', 'com.example.sandbox.one', '--json');
    expect(JSON.parse(json.stdout).webhooks).toEqual([
      {
        id: hookId,
        name: 'CI hook',
        url: 'https://ci.example.com/asc',
        enabled: true,
        eventTypes: ['BUILD_UPLOAD_STATE_UPDATED', 'APP_STORE_VERSION_APP_VERSION_STATE_UPDATED'],
      },
    ]);
  });

  it('ping by id or --app, then deliveries with a state filter and a limit', async () => {
    const one = await run('webhooks', 'ping', hookId);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain(`ascend webhooks deliveries ${hookId}`);
    const all = await run('webhooks', 'ping', '--app', 'com.example.sandbox.one', '--json');
    expect(JSON.parse(all.stdout).pinged).toHaveLength(1);
    await sim.webhooks.idle();
    expect(received).toHaveLength(2);
    const table = await run('webhooks', 'deliveries', hookId);
    expect(table.stdout).toMatch(/STATE\s+HTTP\s+EVENT/);
    expect(table.stdout).toContain('FAILED');
    expect(table.stdout).toContain('PING');
    const failed = await run('webhooks', 'deliveries', hookId, '--state', 'FAILED', '--json');
    const doc = JSON.parse(failed.stdout);
    expect(doc.deliveries).toHaveLength(1);
    expect(doc.deliveries[0]).toMatchObject({
      deliveryState: 'FAILED',
      response: { httpStatusCode: 502 },
      event: { ping: true, payload: received[0] },
    });
    const limited = await run('webhooks', 'deliveries', hookId, '--limit', '1', '--json');
    expect(JSON.parse(limited.stdout).deliveries).toHaveLength(1);
  });

  it('refuses unclear input with one line and exit 2; an unknown webhook is Apple’s 404', async () => {
    const neither = await run('webhooks', 'ping');
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('give a webhook ID, or --app APP');
    const both = await run('webhooks', 'ping', hookId, '--app', 'com.example.sandbox.one');
    expect(both.code).toBe(2);
    const badLimit = await run('webhooks', 'deliveries', hookId, '--limit', '0');
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr.trim().split('\n')).toHaveLength(1);
    const badState = await run('webhooks', 'deliveries', hookId, '--state', 'LOST');
    expect(badState.code).toBe(2);
    const missing = await run('webhooks', 'deliveries', 'no-such-webhook');
    expect(missing.code).toBe(4);
  });

  it('simulator start --webhook-faults with a bad spec stops with one line naming the form (exit 2)', async () => {
    const r = await run('simulator', 'start', '--webhook-faults', 'drop=2');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--webhook-faults: "2" for drop is not a probability; use drop=P,duplicate=P');
  });
});
