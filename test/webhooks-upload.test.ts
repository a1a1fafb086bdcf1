import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Simulator, startSimulator, writeKeyFile } from '../simulator/index.js';
import { createAscClient } from '../src/asc/http/client.js';
import { createWebhook, listWebhookDeliveries } from '../src/asc/resources/webhooks.js';
import { verifyHmacSha256 } from '../src/core/hmac.js';
import { apiKeyOf } from '../src/credentials/key.js';
import { createTokenProvider } from '../src/credentials/token.js';
import { buildIpa } from '../src/sample/builder.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const SECRET = 'upload scenario secret';
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('webhooks across an upload: simulator → real HTTP receiver', () => {
  it('`ascend upload` produces signed BUILD_UPLOAD_STATE_UPDATED and external beta state events, in order', async () => {
    const got: { body: string; ok: boolean }[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        got.push({ body, ok: verifyHmacSha256(SECRET, body, req.headers['x-apple-signature'] as string) });
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => receiver.close(r)));
    const sim: Simulator = await startSimulator({ processingSeconds: 0.2, webhookTickMs: 50 });
    cleanup.unshift(() => sim.close());
    const dir = tempDir('ascend-webhooks-upload-');
    const key = sim.createKey({ role: 'APP_MANAGER' });
    writeKeyFile(join(dir, 'k.json'), key);
    const client = createAscClient({ baseUrl: sim.url, tokens: createTokenProvider(apiKeyOf(key, 'test')) });
    const hook = await createWebhook(client, {
      appId: '1000000001',
      name: 'scenario',
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/apple`,
      secret: SECRET,
      eventTypes: ['BUILD_UPLOAD_STATE_UPDATED', 'BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED'],
      enabled: true,
    });
    const ipa = join(dir, 'app.ipa');
    await buildIpa(ipa, { version: '3.0.0', build: '1', payloadBytes: 1024 });
    const r = await runCli(['upload', ipa, '--api-url', sim.url, '--json'], {
      env: { APP_STORE_CONNECT_API_KEY_PATH: join(dir, 'k.json') },
    });
    expect(r.code, r.stderr).toBe(0);
    const buildId = JSON.parse(r.stdout).build.id as string;
    const detailId = String(sim.store.get('builds', buildId)!.rels.buildBetaDetail);
    const events = () => got.map((g) => JSON.parse(g.body).data);
    await vi.waitFor(() => expect(events().map((e) => e.type)).toContain('buildBetaDetailExternalBuildStateUpdated'), {
      timeout: 5000,
    });
    expect(got.every((g) => g.ok)).toBe(true);
    const uploadId = JSON.parse(r.stdout).buildUpload.id as string;
    expect(events().map((e) => [e.type, e.relationships.instance.data.id, e.attributes])).toEqual([
      ['buildUploadStateUpdated', uploadId, { newState: 'PROCESSING' }],
      ['buildUploadStateUpdated', uploadId, { newState: 'COMPLETE' }],
      [
        'buildBetaDetailExternalBuildStateUpdated',
        detailId,
        {
          oldExternalBuildState: 'PROCESSING',
          newExternalBuildState: sim.store.get('buildBetaDetails', detailId)!.attributes.externalBuildState,
        },
      ],
    ]);
    const recorded = await listWebhookDeliveries(client, hook.id, { state: ['SUCCEEDED'] });
    expect(recorded.map((d) => d.event?.attributes?.payload)).toEqual(got.map((g) => g.body));
  });
});
