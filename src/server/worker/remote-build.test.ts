import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../simulator/index.js';
import { realSleep, type Sleep, systemClock } from '../../core/clock.js';
import { SAMPLE_ROOT_SHA256 } from '../../sample/builder.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { createWorkerToken } from '../accounts/worker-tokens.js';
import { createService, type Service } from '../service.js';
import { listDeployEvents } from '../store/deploys.js';
import { describeStores } from '../store/testing/dialects.js';
import { databaseUrlOf, type Headers } from '../store/testing/service.js';
import { groupAlive } from './process-group.js';
import { type RemoteWorker, startRemoteWorker } from './remote-worker.js';

/** The long build timeout waits for real; every other wait (polls, Apple's processing, the grace) is quick. */
const LONG = 300_000;
const sleep: Sleep = (ms, signal) =>
  ms === LONG ? realSleep(ms, signal) : realSleep(Math.max(5, Math.min(ms / 20, 200)), signal);
const TSX = resolve('node_modules/.bin/tsx');
const MAKE_IPA = resolve('test/fixtures/make-ipa.ts');
const SECRET = 'remote-build-secret-5d1e8b';
const HANGS = 'echo "pgid $$"; sleep 1000 & sleep 1000';

describeStores('ascend worker elsewhere: build steps run on the worker with the labels', (ctx) => {
  let sim: Simulator;
  let svc: Service;
  let dir: string;
  let buildDir: string;
  let owner: Headers;
  let workerToken: string;
  let teamId = '';
  const logs: string[] = [];
  /** Every answer the server gave the workers, to search for the secret afterwards. */
  const answers: string[] = [];
  const calls: string[] = [];
  const workers: RemoteWorker[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ host: '127.0.0.1', port: 0, processingSeconds: 0.2, reviewSeconds: 0.2 });
    dir = mkdtempSync(join(tmpdir(), 'ascend-rbuild-'));
    buildDir = join(dir, 'builds');
    mkdirSync(buildDir);
    svc = await createService({
      dataDir: dir,
      databaseUrl: databaseUrlOf(ctx.location()),
      apiUrl: sim.url,
      workers: 0, // the server runs nothing: only the remote worker can take the build
      sleep,
      pollMs: 20,
      monitorEveryMs: 0,
      maxArtifactBytes: 2 * 1024 * 1024,
      log: { write: (l) => void logs.push(l) },
      extraTrustedRoots: [SAMPLE_ROOT_SHA256],
    });
    await svc.listen('127.0.0.1', 0);
    const { store, deps } = svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    teamId = first.team.id;
    owner = { authorization: `Bearer ${first.apiToken}` };
    workerToken = (await createWorkerToken(store, deps, { name: 'mac' })).token;
    const p8 = sim.createKey({ role: 'APP_MANAGER' });
    const key = await svc.app.inject({
      method: 'POST',
      url: '/api/v1/keys',
      headers: owner,
      payload: { name: 'k', keyId: p8.keyId, issuerId: p8.issuerId, privateKey: p8.privateKeyPem },
    });
    expect(key.statusCode).toBe(201);
    workers.push(await startWorker());
  });
  afterAll(async () => {
    for (const w of workers) await w.stop({ timeoutMs: 1000 });
    await svc?.close({ timeoutMs: 1000 });
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const recordingFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
    answers.push(await res.clone().text());
    return res;
  };

  async function startWorker(): Promise<RemoteWorker> {
    const server = svc.app.server.address();
    if (!server || typeof server === 'string') throw new Error('the server does not listen');
    return startRemoteWorker({
      databaseUrl: databaseUrlOf(ctx.location()),
      server: `http://127.0.0.1:${server.port}`,
      token: workerToken,
      labels: ['macos', 'xcode-16'],
      concurrency: 1,
      apiUrl: sim.url,
      leaseMs: 10_000,
      pollMs: 20,
      clock: systemClock,
      sleep,
      random: Math.random,
      fetch: recordingFetch,
      extraTrustedRoots: [SAMPLE_ROOT_SHA256],
      buildDir,
      buildEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
      buildGraceMs: 5000,
    });
  }

  const inject = (method: 'GET' | 'POST', url: string, headers: Headers, payload?: object | Buffer) =>
    svc.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  const start = async (build: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const res = await inject('POST', '/api/v1/deploys', owner, { build, ...extra });
    expect(res.statusCode, res.body).toBe(202);
    return res.json().id as string;
  };
  const get = async (id: string) => (await inject('GET', `/api/v1/deploys/${id}`, owner)).json();
  const settle = async (id: string) => {
    for (let i = 0; i < 3000; i++) {
      const d = await get(id);
      if (['succeeded', 'failed', 'cancelled', 'awaiting_approval'].includes(d.state)) return d;
      await realSleep(20);
    }
    throw new Error(`deploy ${id} did not end`);
  };
  const logText = async (id: string) =>
    (await listDeployEvents(svc.storage.store, teamId, id, { limit: 1000 }))
      .filter((e) => e.type === 'log')
      .map((e) => (e.data as { text: string }).text)
      .join('\n');
  /** The pgids a hanging build printed, once it printed one more than `seen`. */
  const pgids = async (id: string, seen = 0) => {
    for (let i = 0; i < 1500; i++) {
      const found = [...(await logText(id)).matchAll(/pgid (\d+)/g)].map((m) => Number(m[1]));
      if (found.length > seen) return found;
      await realSleep(20);
    }
    throw new Error(`deploy ${id} printed no process group`);
  };
  /** The id of the build job the worker asked about, from the path of its build-env call. */
  const jobOfLastBuild = () => {
    const path = calls.filter((c) => c.endsWith('/build-env')).at(-1) ?? '';
    return decodeURIComponent(path.split('/')[5] ?? '');
  };

  it('builds the .ipa on the worker, uploads it through the worker API and deploys it to the end', async () => {
    const id = await start(
      {
        command: [TSX, MAKE_IPA, 'out/App.ipa', 'com.example.sandbox.one', '4.0.0', '51'],
        workdir: 'app',
        env: { BUILD_TOKEN: SECRET },
        labels: ['macos'],
        artifact: '**/*.ipa',
        timeout: LONG / 1000,
      },
      { groups: ['External Testers'], whatsNew: 'Built on a Mac' },
    );
    const d = await settle(id);
    expect(d.error ?? null).toBeNull();
    expect(d).toMatchObject({ state: 'succeeded', build: { labels: ['macos'], envNames: ['BUILD_TOKEN'] } });
    expect(d.steps[0]).toMatchObject({ step: 'build', status: 'done', exitCode: 0 });
    expect(d.steps.map((s: { step: string }) => s.step)).toContain('upload');
    const log = await logText(id);
    expect(log).toContain('building com.example.sandbox.one 4.0.0 (51)');
    expect(log).toContain('token from env: [REDACTED]');
    // The steps name the remote worker that ran the build.
    const events = await listDeployEvents(svc.storage.store, teamId, id, { limit: 1000 });
    const running = events.find((e) => e.type === 'step' && (e.data as { status?: string }).status === 'running');
    expect((running?.data as { detail?: string } | undefined)?.detail).toBe(`on ${workers[0]!.name} (macos, xcode-16)`);
    // The env came from the server and the artifact went to it, both over the worker API.
    expect(calls).toContain(`POST /api/v1/worker/jobs/${encodeURIComponent(jobOfLastBuild())}/artifact`);
    const art = (await inject('GET', `/api/v1/artifacts/${d.artifactId}`, owner)).json();
    expect(art).toMatchObject({
      filename: 'App.ipa',
      facts: { app: { bundleId: 'com.example.sandbox.one', buildVersion: '51' } },
    });
    expect(readdirSync(buildDir)).toEqual([]); // the fresh working folder is gone
  }, 90_000); // tsx starting on a loaded machine and the whole deploy

  it('a cancel sent to the API stops the remote build with nothing left running; others get no env', async () => {
    const id = await start({
      command: HANGS,
      env: { BUILD_TOKEN: SECRET },
      labels: ['xcode-16'],
      artifact: 'x',
      timeout: LONG / 1000,
    });
    const [pgid] = await pgids(id);
    expect(await groupAlive(pgid!)).toBe(true);
    // The job is leased to the worker; asked under another name, or by a team token, nothing is handed out.
    const jobId = jobOfLastBuild();
    expect(jobId).not.toBe('');
    const worker = { authorization: `Bearer ${workerToken}` };
    const other = `${workers[0]!.name.split('@')[0]}@elsewhere:2`;
    const env = await inject('POST', `/api/v1/worker/jobs/${jobId}/build-env`, worker, { worker: other });
    expect(env.statusCode).toBe(409);
    expect(env.json().error.code).toBe('JOB_NOT_LEASED');
    const asTeam = await inject('POST', `/api/v1/worker/jobs/${jobId}/build-env`, owner, { worker: other });
    expect(asTeam.json().error.code).toBe('WORKER_TOKEN_INVALID');
    const upload = (name: string, body: Buffer) =>
      inject(
        'POST',
        `/api/v1/worker/jobs/${jobId}/artifact`,
        { ...worker, 'content-type': 'application/octet-stream', 'x-filename': 'Evil.ipa', 'x-ascend-worker': name },
        body,
      );
    const refused = await upload(other, Buffer.from('not an ipa'));
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('JOB_NOT_LEASED');
    // Even the leaseholder's upload is bounded by the server's max artifact size.
    const big = await upload(workers[0]!.name, Buffer.alloc(3 * 1024 * 1024));
    expect(big.json().error.code).toBe('ARTIFACT_TOO_LARGE');
    expect((await inject('POST', `/api/v1/deploys/${id}/cancel`, owner)).statusCode).toBe(202);
    const d = await settle(id);
    expect(d).toMatchObject({ state: 'cancelled' });
    expect(d.steps[0]).toMatchObject({ step: 'build', status: 'cancelled' });
    expect(await groupAlive(pgid!)).toBe(false);
    expect(readdirSync(buildDir)).toEqual([]);
  }, 60_000);

  it('never logs, stores or streams the build env values the server handed out', async () => {
    expect(answers.some((a) => a.includes(SECRET))).toBe(true); // the worker did get them
    expect(logs.join('\n')).not.toContain(SECRET);
    const { store } = svc.storage;
    for (const t of (await store.db.introspection.getTables()).filter(
      (t) => !store.schema || t.schema === store.schema,
    ))
      expect(
        JSON.stringify(
          await store.db
            .selectFrom(t.name as 'jobs')
            .selectAll()
            .execute(),
        ),
        t.name,
      ).not.toContain(SECRET);
  });

  it('a worker stopped mid-build kills the group and releases the job, which another worker builds afresh', async () => {
    const id = await start({ command: HANGS, labels: ['macos', 'xcode-16'], artifact: 'x', timeout: LONG / 1000 });
    const [first] = await pgids(id);
    await workers.shift()!.stop({ timeoutMs: 0 });
    expect(await groupAlive(first!)).toBe(false);
    expect((await get(id)).state).not.toMatch(/failed|cancelled/);
    workers.push(await startWorker());
    const [, second] = await pgids(id, 1);
    expect(second).not.toBe(first);
    expect(await groupAlive(second!)).toBe(true);
    expect((await inject('POST', `/api/v1/deploys/${id}/cancel`, owner)).statusCode).toBe(202);
    expect(await settle(id)).toMatchObject({ state: 'cancelled' });
    expect(await groupAlive(second!)).toBe(false);
  }, 60_000);
});
