import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { realSleep, type Sleep } from '../src/core/clock.js';
import { SAMPLE_ROOT_SHA256 } from '../src/sample/builder.js';
import { ensureFirstAdmin } from '../src/server/accounts/bootstrap.js';
import { createService, type Service } from '../src/server/service.js';
import { listDeployEvents } from '../src/server/store/deploys.js';
import { describeStores } from '../src/server/store/testing/dialects.js';
import { bearerFor, databaseUrlOf, recordingCall } from '../src/server/store/testing/service.js';
import { groupAlive } from '../src/server/worker/process-group.js';

/** The long build timeout waits for real; every other wait (Apple's processing, the 1 s timeout, the grace) is quick. */
const LONG = 300_000;
const sleep: Sleep = (ms, signal) => (ms === LONG ? realSleep(ms, signal) : realSleep(Math.min(ms / 20, 200), signal));
const TSX = resolve('node_modules/.bin/tsx');
const MAKE_IPA = resolve('test/fixtures/make-ipa.ts');
const SECRET = 'build-secret-7f3a9c1e';

describeStores('server: build steps on a labelled worker', (ctx) => {
  let sim: Simulator;
  let svc: Service;
  let dir: string;
  let builds: string;
  const bodies: string[] = [];
  let releaser: Record<string, string>;
  let teamId = '';
  const call = recordingCall(() => svc.app, bodies);

  beforeAll(async () => {
    sim = await startSimulator({ host: '127.0.0.1', port: 0, processingSeconds: 0.2, reviewSeconds: 0.2 });
    dir = mkdtempSync(join(tmpdir(), 'ascend-build-svc-'));
    builds = join(dir, 'builds');
    svc = await createService({
      dataDir: dir,
      databaseUrl: databaseUrlOf(ctx.location()),
      apiUrl: sim.url,
      workers: 2,
      sleep,
      pollMs: 20,
      extraTrustedRoots: [SAMPLE_ROOT_SHA256],
      workerLabels: ['linux'],
      buildEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
      buildDir: builds,
      buildGraceMs: 5000,
    });
    const { store, deps } = svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    teamId = first.team.id;
    const owner = { authorization: `Bearer ${first.apiToken}` };
    releaser = await bearerFor(store, deps, teamId, 'releaser');
    const key = sim.createKey({ role: 'APP_MANAGER' });
    const added = await call('POST', '/api/v1/keys', owner, {
      name: 'sandbox',
      keyId: key.keyId,
      issuerId: key.issuerId,
      privateKey: key.privateKeyPem,
    });
    expect(added.statusCode).toBe(201);
  });
  afterAll(async () => {
    await svc?.close({ timeoutMs: 2000 });
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (build: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const res = await call('POST', '/api/v1/deploys', releaser, { build, ...extra });
    expect(res.statusCode).toBe(202);
    return res.json().id as string;
  };
  const get = async (id: string) => (await call('GET', `/api/v1/deploys/${id}`, releaser)).json();
  const settle = async (id: string, until: (d: { state: string }) => boolean) => {
    for (let i = 0; i < 3000; i++) {
      const d = await get(id);
      if (until(d)) return d;
      await realSleep(20);
    }
    throw new Error(`deploy ${id} did not settle`);
  };
  const ended = (d: { state: string }) => ['succeeded', 'failed', 'cancelled', 'awaiting_approval'].includes(d.state);
  const logText = async (id: string) => {
    const evs = await listDeployEvents(svc.storage.store, teamId, id, { limit: 1000 });
    return evs
      .filter((e) => e.type === 'log')
      .map((e) => (e.data as { text: string }).text)
      .join('\n');
  };

  it('builds a sample .ipa on the worker, stores it as an artifact and deploys it to the end', async () => {
    const id = await start(
      {
        command: [TSX, MAKE_IPA, 'out/App.ipa', 'com.example.sandbox.one', '1.1.0', '31'],
        workdir: 'app',
        env: { BUILD_TOKEN: SECRET },
        labels: ['linux'],
        artifact: '**/*.ipa',
        timeout: LONG / 1000,
      },
      { groups: ['External Testers'], whatsNew: 'Built on the server' },
    );
    const d = await settle(id, ended);
    expect(d).toMatchObject({ state: 'succeeded', build: { labels: ['linux'], envNames: ['BUILD_TOKEN'] } });
    expect(d.artifactId).toMatch(/^art_/);
    expect(d.steps[0]).toMatchObject({ step: 'build', status: 'done', exitCode: 0 });
    expect(d.steps.map((s: { step: string }) => s.step)).toContain('upload');
    const log = await logText(id);
    expect(log).toContain('building com.example.sandbox.one 1.1.0 (31)');
    expect(log).toContain('token from env: [REDACTED]');
    const art = (await call('GET', `/api/v1/artifacts/${d.artifactId}`, releaser)).json();
    expect(art).toMatchObject({
      filename: 'App.ipa',
      facts: { app: { bundleId: 'com.example.sandbox.one', buildVersion: '31' } },
    });
    expect(readdirSync(builds)).toEqual([]); // the working folder is gone
  }, 90_000); // tsx starting on a loaded machine and the whole deploy

  it('a build no worker has the labels for stays queued, saying what it waits for, and can be cancelled', async () => {
    const id = await start({ command: ['true'], labels: ['xcode', 'macos'], artifact: 'a.ipa', timeout: 60 });
    await realSleep(200); // time for a wrong worker to take it, which it must not
    const d = await get(id);
    expect(d).toMatchObject({ state: 'queued' });
    expect(d.steps[0]).toMatchObject({
      step: 'build',
      status: 'waiting',
      detail: 'waiting for a worker with labels macos, xcode',
    });
    expect((await call('POST', `/api/v1/deploys/${id}/cancel`, releaser)).statusCode).toBe(202);
    expect((await get(id)).state).toBe('cancelled');
  });

  it('a non-zero exit fails the deploy with BUILD_FAILED, the exit code and the last lines', async () => {
    const id = await start({
      command: 'echo compiling; echo "error: no such module" >&2; exit 65',
      artifact: 'x',
      timeout: 60,
    });
    const d = await settle(id, ended);
    expect(d).toMatchObject({ state: 'failed', error: { code: 'BUILD_FAILED' } });
    expect(d.error.message).toBe('the build command exited with code 65: error: no such module');
    expect(d.steps[0]).toMatchObject({ step: 'build', status: 'failed', exitCode: 65 });
    expect(d.steps[0].detail).toContain('compiling');
    // A retry builds again (the build made no artifact), here failing the same way.
    expect((await call('POST', `/api/v1/deploys/${id}/retry`, releaser)).statusCode).toBe(202);
    const again = await settle(id, ended);
    expect(again).toMatchObject({ state: 'failed', error: { code: 'BUILD_FAILED' } });
    const evs = await listDeployEvents(svc.storage.store, teamId, id, { limit: 1000 });
    const failedSteps = evs.filter((e) => e.type === 'step' && (e.data as { status?: string }).status === 'failed');
    expect(failedSteps).toHaveLength(2);
  });

  it('past 20,000 lines the events keep the last ones; the whole log is a file, served to the team', async () => {
    const print = 'for (let i = 0; i < 30000; i++) console.log("line " + i); process.exitCode = 1';
    const id = await start({ command: [process.execPath, '-e', print], artifact: 'x', timeout: LONG / 1000 });
    expect(await settle(id, ended)).toMatchObject({ state: 'failed', error: { code: 'BUILD_FAILED' } });
    const events = (await logText(id)).split('\n');
    expect(events).toHaveLength(20_000 + 1 + 200);
    expect(events[20_000]).toBe('… 9800 lines not stored …');
    expect(events.at(-1)).toBe('line 29999');
    const res = await call('GET', `/api/v1/deploys/${id}/build-log`, releaser);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    const all = res.body.trimEnd().split('\n');
    expect(all).toHaveLength(30_000);
    expect(all[12_345]).toBe('line 12345');
    const other = await call('GET', '/api/v1/deploys/dep_nosuchdeploy/build-log', releaser);
    expect(other.statusCode).toBe(404);
  });

  it('a build past its timeout is stopped with BUILD_TIMEOUT and nothing of it left running', async () => {
    const id = await start({ command: 'echo "pgid $$"; sleep 1000 & wait', artifact: 'x', timeout: 1 });
    const d = await settle(id, ended);
    expect(d).toMatchObject({ state: 'failed', error: { code: 'BUILD_TIMEOUT' } });
    const pgid = Number((await logText(id)).match(/pgid (\d+)/)?.[1]);
    expect(pgid).toBeGreaterThan(0);
    expect(await groupAlive(pgid)).toBe(false);
  });

  it('cancelling a running build kills its whole process group', async () => {
    const id = await start({ command: 'echo "pgid $$"; sleep 1000 & sleep 1000', artifact: 'x', timeout: LONG / 1000 });
    let pgid = 0;
    for (let i = 0; i < 1000 && !pgid; i++) {
      pgid = Number((await logText(id)).match(/pgid (\d+)/)?.[1] ?? 0);
      if (!pgid) await realSleep(20);
    }
    expect(await groupAlive(pgid)).toBe(true);
    expect((await call('POST', `/api/v1/deploys/${id}/cancel`, releaser)).statusCode).toBe(202);
    const d = await settle(id, ended);
    expect(d).toMatchObject({ state: 'cancelled' });
    expect(d.steps[0]).toMatchObject({ step: 'build', status: 'cancelled' });
    expect(await groupAlive(pgid)).toBe(false);
  });

  it('refuses a bad build object with one clear line', async () => {
    const bad = async (body: Record<string, unknown>) => {
      const res = await call('POST', '/api/v1/deploys', releaser, body);
      expect(res.statusCode).toBe(400);
      return res.json().error.message as string;
    };
    const ok = { command: ['make'], artifact: 'a.ipa', timeout: 60 };
    expect(await bad({ artifactId: 'art_x', build: ok })).toMatch(/exactly one of artifactId/);
    expect(await bad({})).toMatch(/exactly one of artifactId/);
    expect(await bad({ build: { ...ok, workdir: '../out' } })).toMatch(/^build\.workdir: /);
    expect(await bad({ build: { ...ok, artifact: '/etc/passwd' } })).toMatch(/^build\.artifact: /);
    expect(await bad({ build: { ...ok, timeout: 99_999 } })).toMatch(/^build\.timeout: /);
    expect(await bad({ build: { ...ok, env: { LD_PRELOAD: SECRET } } })).toMatch(/^build\.env/);
  });

  it('never shows the env values: not in a response, an event or the deploy row', async () => {
    for (const b of bodies) expect(b).not.toContain(SECRET);
    const evs = await svc.storage.store.db.selectFrom('deploy_events').select('data').execute();
    for (const e of evs) expect(e.data).not.toContain(SECRET);
    const rows = await svc.storage.store.db.selectFrom('deploys').selectAll().execute();
    for (const r of rows) expect(JSON.stringify(r)).not.toContain(SECRET);
    const secrets = await svc.storage.store.db.selectFrom('secrets').select(['kind', 'ciphertext']).execute();
    expect(secrets.some((s) => s.kind === 'build-env' && !s.ciphertext.includes(SECRET))).toBe(true);
  });
});

it('a server refuses more than 6 worker labels before opening anything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ascend-build-labels-'));
  try {
    const labels = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    await expect(
      createService({ dataDir: join(dir, 'data'), apiUrl: 'http://127.0.0.1:9', workers: 1, workerLabels: labels }),
    ).rejects.toMatchObject({ code: 'USAGE', message: 'a worker takes at most 6 labels, not 7' });
    expect(readdirSync(dir)).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
