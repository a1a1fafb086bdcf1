import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../simulator/index.js';
import { createAscClient } from '../../asc/http/client.js';
import { listBuildUploads } from '../../asc/resources/build-uploads.js';
import { listBuilds } from '../../asc/resources/builds.js';
import { realSleep, type Sleep, systemClock } from '../../core/clock.js';
import { createTokenProvider } from '../../credentials/token.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../../sample/builder.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { createWorkerToken, revokeWorkerToken } from '../accounts/worker-tokens.js';
import { createService, type Service } from '../service.js';
import { listDeployEvents } from '../store/deploys.js';
import { describeStores } from '../store/testing/dialects.js';
import { databaseUrlOf, type Headers } from '../store/testing/service.js';
import type { WorkerCredentials } from './protocol.js';
import { type RemoteWorker, startRemoteWorker } from './remote-worker.js';

const quickSleep: Sleep = (ms, signal) => realSleep(Math.min(ms / 20, 200), signal);
const APP_ID = '1000000001';

describeStores('ascend worker elsewhere: a deploy runs with server-minted tokens and artifact ranges', (ctx) => {
  let sim: Simulator;
  let svc: Service;
  let dir: string;
  let url: string;
  let owner: Headers;
  let workerToken: string;
  let p8: { keyId: string; issuerId: string | undefined; privateKeyPem: string };
  const logs: string[] = [];
  const handedOut: WorkerCredentials[] = [];
  const workers: RemoteWorker[] = [];

  beforeAll(async () => {
    sim = await startSimulator({
      host: '127.0.0.1',
      port: 0,
      processingSeconds: 0.2,
      reviewSeconds: 0.2,
      partSizeBytes: 128 * 1024,
    });
    dir = mkdtempSync(join(tmpdir(), 'ascend-rw-'));
    svc = await createService({
      dataDir: dir,
      databaseUrl: databaseUrlOf(ctx.location()),
      apiUrl: sim.url,
      workers: 0,
      sleep: quickSleep,
      pollMs: 20,
      monitorEveryMs: 0,
      log: { write: (l) => void logs.push(l) },
      extraTrustedRoots: [SAMPLE_ROOT_SHA256],
    });
    url = await svc.listen('127.0.0.1', 0);
    const { store, deps } = svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    owner = { authorization: `Bearer ${first.apiToken}` };
    workerToken = (await createWorkerToken(store, deps, { name: 'remote' })).token;
    p8 = sim.createKey({ role: 'APP_MANAGER' });
    const key = await svc.app.inject({
      method: 'POST',
      url: '/api/v1/keys',
      headers: owner,
      payload: { name: 'k', keyId: p8.keyId, issuerId: p8.issuerId, privateKey: p8.privateKeyPem },
    });
    expect(key.statusCode).toBe(201);
  });
  afterAll(async () => {
    for (const w of workers) await w.stop({ timeoutMs: 1000 });
    await svc?.close({ timeoutMs: 1000 });
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fetch that keeps the credentials the server hands out, to search for them afterwards. */
  const recordingFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (String(input).includes('/credentials') && res.ok)
      handedOut.push((await res.clone().json()) as WorkerCredentials);
    return res;
  };

  const deployBuild = async (build: string) => {
    const ipa = join(dir, `App-${build}.ipa`);
    await buildIpa(ipa, { bundleId: 'com.example.sandbox.one', version: '3.0.0', build, payloadBytes: 700 * 1024 });
    const art = await svc.app.inject({
      method: 'POST',
      url: '/api/v1/artifacts',
      headers: { ...owner, 'content-type': 'application/octet-stream', 'x-filename': 'App.ipa' },
      payload: readFileSync(ipa),
    });
    expect(art.statusCode).toBe(201);
    const d = await svc.app.inject({
      method: 'POST',
      url: '/api/v1/deploys',
      headers: owner,
      payload: { artifactId: art.json().id, groups: ['External Testers'], whatsNew: 'From a worker' },
    });
    expect(d.statusCode).toBe(202);
    return d.json().id as string;
  };

  const settle = async (id: string) => {
    for (let i = 0; i < 600; i++) {
      const d = (await svc.app.inject({ method: 'GET', url: `/api/v1/deploys/${id}`, headers: owner })).json();
      if (['succeeded', 'failed', 'cancelled', 'awaiting_approval'].includes(d.state)) return d;
      await realSleep(100);
    }
    throw new Error(`deploy ${id} did not end`);
  };

  it('runs a deploy to TestFlight on a worker that holds no master key', async () => {
    workers.push(
      await startRemoteWorker({
        databaseUrl: databaseUrlOf(ctx.location()),
        server: url,
        token: workerToken,
        labels: ['macos', 'xcode-16'],
        concurrency: 1,
        apiUrl: sim.url,
        leaseMs: 10_000,
        pollMs: 20,
        clock: systemClock,
        sleep: quickSleep,
        random: Math.random,
        fetch: recordingFetch,
        extraTrustedRoots: [SAMPLE_ROOT_SHA256],
      }),
    );
    const id = await deployBuild('21');
    const d = await settle(id);
    expect(d.error ?? null).toBeNull();
    expect(d).toMatchObject({ state: 'succeeded', progress: 1 });
    expect(d.steps.map((s: { step: string }) => s.step)).toEqual(expect.arrayContaining(['upload', 'groups']));
    // The job was held under this worker token's name (the jobs table is the SQLite queue's; PostgreSQL's is pg-boss).
    if (ctx.dialect === 'sqlite') {
      const job = async () =>
        svc.storage.store.db.selectFrom('jobs').select(['worker', 'state']).executeTakeFirstOrThrow();
      for (let i = 0; i < 50 && (await job()).state !== 'succeeded'; i++) await realSleep(50);
      expect(await job()).toEqual({ worker: workers[0]!.name, state: 'succeeded' });
    }
    expect(workers[0]!.name).toMatch(/^wtk_\w+@.+:\d+$/);
    // Apple has exactly one build 21 and no upload left waiting for bytes.
    const apple = createAscClient({
      baseUrl: sim.url,
      tokens: createTokenProvider({ ...p8, inHouse: false, sources: { keyId: '', issuerId: '', privateKey: '' } }),
    });
    const { builds } = await listBuilds(apple, { appId: APP_ID, version: '3.0.0' });
    expect(builds.map((b) => b.attributes?.version)).toEqual(['21']);
    const uploads = await listBuildUploads(apple, APP_ID, { version: '3.0.0' });
    expect(uploads.map((u) => u.attributes?.state?.state)).toEqual(['COMPLETE']);
    // The build's bytes came by range from the server, in several requests (zip directory, parts).
    const ranged = logs.filter((l) => l.includes('/api/v1/worker/artifacts/'));
    expect(ranged.length).toBeGreaterThan(3);
    expect(handedOut.length).toBeGreaterThan(0);
  });

  it('never logs, stores or streams the tokens and signed URLs it handed to the worker', async () => {
    const secrets = handedOut.flatMap((c) => [
      c.appStoreConnect.token,
      new URL(c.artifact.url, 'http://x').searchParams.get('sig')!,
    ]);
    const text = logs.join('\n');
    const { store } = svc.storage;
    const dumps: string[] = [];
    for (const t of (await store.db.introspection.getTables()).filter(
      (t) => !store.schema || t.schema === store.schema,
    ))
      dumps.push(
        JSON.stringify(
          await store.db
            .selectFrom(t.name as 'jobs')
            .selectAll()
            .execute(),
        ),
      );
    const teamId = (await store.db.selectFrom('teams').select('id').executeTakeFirstOrThrow()).id;
    const deployId = (await store.db.selectFrom('deploys').select('id').executeTakeFirstOrThrow()).id;
    const events = JSON.stringify(await listDeployEvents(store, teamId, deployId, { limit: 1000 }));
    for (const s of secrets) {
      expect(text).not.toContain(s);
      for (const d of dumps) expect(d).not.toContain(s);
      expect(events).not.toContain(s);
    }
  });

  it('a server that does not answer sends the job back (the deploy is not failed); a revoked token stops the worker', async () => {
    for (const w of workers.splice(0)) await w.stop({ timeoutMs: 1000 });
    const { store, deps } = svc.storage;
    const flaky = await createWorkerToken(store, deps, { name: 'flaky' });
    let refusedCalls = 2;
    const downThenUp: typeof fetch = async (input, init) => {
      if (String(input).includes('/credentials') && refusedCalls-- > 0) throw new TypeError('fetch failed');
      return fetch(input, init);
    };
    const fatal: string[] = [];
    const start = (token: string, f: typeof fetch) =>
      startRemoteWorker({
        databaseUrl: databaseUrlOf(ctx.location()),
        server: url,
        token,
        labels: [],
        concurrency: 1,
        apiUrl: sim.url,
        leaseMs: 10_000,
        pollMs: 20,
        clock: systemClock,
        sleep: quickSleep,
        random: Math.random,
        fetch: f,
        extraTrustedRoots: [SAMPLE_ROOT_SHA256],
        onFatal: (err) => void fatal.push(err.code),
      });
    workers.push(await start(flaky.token, downThenUp));
    const first = await deployBuild('22');
    expect((await settle(first)).state).toBe('succeeded');
    expect(refusedCalls).toBeLessThan(0); // both refusals happened, and the job came back each time
    const teamId = (await store.db.selectFrom('teams').select('id').executeTakeFirstOrThrow()).id;
    const states = (await listDeployEvents(store, teamId, first, { limit: 1000 }))
      .filter((e) => e.type === 'state')
      .map((e) => (e.data as { state: string }).state);
    expect(states).not.toContain('failed');
    // The token is revoked while the worker runs: it stops taking jobs, says why, and fails nobody's deploy.
    await revokeWorkerToken(store, deps, flaky.info.id);
    const second = await deployBuild('23');
    for (let i = 0; i < 200 && fatal.length === 0; i++) await realSleep(50);
    expect(fatal).toEqual(['WORKER_TOKEN_INVALID']);
    const waiting = (await svc.app.inject({ method: 'GET', url: `/api/v1/deploys/${second}`, headers: owner })).json();
    expect(['queued', 'running']).toContain(waiting.state);
    // A worker with a good token takes it over.
    workers.push(await start(workerToken, fetch));
    expect((await settle(second)).state).toBe('succeeded');
  });
});
