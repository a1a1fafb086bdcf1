import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../simulator/index.js';
import { realSleep } from '../src/core/clock.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../src/sample/builder.js';
import { ensureFirstAdmin } from '../src/server/accounts/bootstrap.js';
import { createService } from '../src/server/service.js';
import { bearerFor } from '../src/server/store/testing/service.js';
import { fmt, stats } from './lib.js';

/** Apple's processing ends only when the benchmark says so, by moving the simulator's clock. */
const PROCESSING_S = 3600;
const BUNDLE = 'com.example.sandbox.one';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const until = async (check: () => Promise<boolean> | boolean) => {
  for (let i = 0; i < 6000; i++) {
    if (await check()) return;
    await realSleep(5);
  }
  throw new Error('the deploy did not get there in 30 s');
};

/**
 * One path: a real `ascend server` stack in this process (SQLite, one worker, real sleeps) and the simulator
 * as a real HTTP server delivering its webhooks over HTTP. For each run a deploy uploads a build and waits;
 * `afterS` seconds after Apple's processing started, the simulator's clock moves past it (processing ends,
 * the event is sent); the latency is from that instant to the end of the deploy's upload step (its
 * `endedAt`), after which the deploy moves to its next step.
 */
async function measure(withWebhooks: boolean, afterS: readonly number[]): Promise<number[]> {
  const port = await freePort();
  const sim = await startSimulator({ processingSeconds: PROCESSING_S, partSizeBytes: 5 * 1024 * 1024 });
  const dir = mkdtempSync(join(tmpdir(), 'ascend-bench-webhooks-'));
  const svc = await createService({
    dataDir: dir,
    apiUrl: sim.url,
    workers: 1,
    ...(withWebhooks ? { publicUrl: `http://127.0.0.1:${port}` } : {}),
    monitorEveryMs: 0,
    extraTrustedRoots: [SAMPLE_ROOT_SHA256],
  });
  await svc.listen('127.0.0.1', port);
  const out: number[] = [];
  try {
    const { store, deps } = svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    const owner = { authorization: `Bearer ${first.apiToken}` };
    const releaser = await bearerFor(store, deps, first.team.id, 'releaser');
    const k = sim.createKey({ role: 'APP_MANAGER' });
    const inject = (method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: unknown) =>
      svc.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
    await inject('POST', '/api/v1/keys', owner, {
      name: 'bench',
      keyId: k.keyId,
      issuerId: k.issuerId,
      privateKey: k.privateKeyPem,
    });
    await inject('POST', '/api/v1/apps/sync', owner);
    const hooks = sim.store.list('webhooks').length;
    if (withWebhooks !== hooks > 0) throw new Error(`expected ${withWebhooks ? 'a' : 'no'} webhook, found ${hooks}`);
    let build = 100;
    for (const s of afterS) {
      const ipa = join(dir, `App-${++build}.ipa`);
      await buildIpa(ipa, { bundleId: BUNDLE, version: '2.0.0', build: String(build), payloadBytes: 256 * 1024 });
      const art = await svc.app.inject({
        method: 'POST',
        url: '/api/v1/artifacts',
        headers: { ...releaser, 'content-type': 'application/octet-stream', 'x-filename': 'App.ipa' },
        payload: readFileSync(ipa),
      });
      const id = (await inject('POST', '/api/v1/deploys', releaser, { artifactId: art.json().id })).json().id;
      const processing = () =>
        sim.store
          .list('buildUploads')
          .some(
            (u) =>
              u.attributes.cfBundleVersion === String(build) &&
              (u.attributes.state as { state?: string })?.state === 'PROCESSING',
          );
      await until(processing);
      await realSleep(s * 1000);
      const t0 = Date.now();
      await sim.app.inject({ method: 'POST', url: '/__sim/clock', payload: { advanceSeconds: PROCESSING_S + 1 } });
      let ended = '';
      await until(async () => {
        const d = (await inject('GET', `/api/v1/deploys/${id}`, releaser)).json();
        ended =
          (d.steps as { step: string; status: string; endedAt?: string }[]).find(
            (x) => x.step === 'upload' && x.status === 'done',
          )?.endedAt ?? '';
        return ended !== '';
      });
      out.push(Date.parse(ended) - t0);
      await inject('POST', `/api/v1/deploys/${id}/cancel`, releaser);
    }
  } finally {
    await svc.close({ timeoutMs: 2000 });
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** Webhook path vs polling path: time from Apple finishing processing to the deploy's next step. */
export async function benchWebhooks(afterS: readonly number[] = [2, 4, 6, 8, 10]): Promise<string> {
  const hooks = await measure(true, afterS);
  const polls = await measure(false, afterS);
  const row = (name: string, v: number[]) => {
    const s = stats(v);
    return `| ${name} | ${fmt(s.median, 0)} ms (${fmt(s.min, 0)}–${fmt(s.max, 0)}) | ${v.map((x) => fmt(x, 0)).join(', ')} |`;
  };
  return [
    '## Webhooks: from Apple finishing processing to the deploy’s next step',
    '',
    'A deploy through `ascend server` (in process, SQLite, one worker, real sleeps) waits for Apple to process',
    'its upload; the simulator (a real HTTP server) finishes processing when its clock is moved,',
    `${afterS.join(', ')} s after processing started (one run each). Measured from that instant to the`,
    'end of the deploy’s upload step. With `--public-url` the simulator delivers a signed',
    '`BUILD_UPLOAD_STATE_UPDATED` event over HTTP, the server checks it, re-reads the upload in a job and wakes',
    'the wait; without, the wait polls (1 s growing 1.5× to 15 s). Target with webhooks: ≤ 1 s.',
    '',
    '| path | latency, median (min–max) | each run |',
    '| --- | --- | --- |',
    row('webhook (`--public-url`)', hooks),
    row('polling only', polls),
  ].join('\n');
}
