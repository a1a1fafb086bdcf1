import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ISSUER_ID, KEY_ID, p256 } from '../../../test/helpers/keys.js';
import { type Clock, realSleep } from '../../core/clock.js';
import { buildIpa } from '../../sample/builder.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { createWorkerToken, revokeWorkerToken } from '../accounts/worker-tokens.js';
import { openJobQueue } from '../queue/open.js';
import type { JobQueue } from '../queue/types.js';
import { createService, type Service } from '../service.js';
import { createDeploy } from '../store/deploys.js';
import { addKey } from '../store/keys.js';
import { describeStores } from '../store/testing/dialects.js';
import { databaseUrlOf, type Headers } from '../store/testing/service.js';
import type { WorkerCredentials } from '../worker/protocol.js';

/** A clock the test moves: signed URLs and leases expire by it. */
function movableClock(start: number): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

describeStores('worker API: tokens, leased-job credentials, signed artifact ranges', (ctx) => {
  let svc: Service;
  let dir: string;
  let ipa: Buffer;
  const logs: string[] = [];
  const clock = movableClock(Date.parse('2026-11-29T05:00:00Z'));
  let team: Headers;
  let worker: Headers;
  let workerId: string;
  let teamId: string;
  let jobId: string;
  let creds: WorkerCredentials;
  let held: JobQueue | undefined;
  let release!: () => void;
  const finish = new Promise<void>((r) => {
    release = r;
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ascend-wapi-'));
    svc = await createService({
      dataDir: dir,
      databaseUrl: databaseUrlOf(ctx.location()),
      apiUrl: 'http://127.0.0.1:9', // never called: the routes mint tokens, they do not call Apple
      workers: 0,
      clock,
      monitorEveryMs: 0,
      log: { write: (l) => void logs.push(l) },
    });
    const { store, vault, deps } = svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    teamId = first.team.id;
    team = { authorization: `Bearer ${first.apiToken}` };
    const w = await createWorkerToken(store, deps, { name: 'mac-mini-1' });
    workerId = w.info.id;
    worker = { authorization: `Bearer ${w.token}` };
    const key = await addKey(store, vault, deps, teamId, {
      name: 'k',
      keyId: KEY_ID,
      issuerId: ISSUER_ID,
      privateKey: p256().pkcs8,
      role: 'APP_MANAGER',
    });
    const file = join(dir, 'App.ipa');
    await buildIpa(file, { bundleId: 'com.example.w', version: '1.0', build: '1', payloadBytes: 300 * 1024 });
    ipa = readFileSync(file);
    const art = await svc.app.inject({
      method: 'POST',
      url: '/api/v1/artifacts',
      headers: { ...team, 'content-type': 'application/octet-stream', 'x-filename': 'App.ipa' },
      payload: ipa,
    });
    expect(art.statusCode).toBe(201);
    const d = await createDeploy(store, deps, teamId, { artifactId: art.json().id, keyRef: key.id, options: {} });
    jobId = await svc.queue.enqueue('deploy', { teamId, deployId: d.id });
  });
  afterAll(async () => {
    release();
    await held?.stop({ timeoutMs: 1000 });
    await svc?.close({ timeoutMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
  });

  const inject = (method: 'GET' | 'POST', url: string, headers: Headers, payload?: object) =>
    svc.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  const me = `@host:1`;

  it('accepts only worker tokens on worker routes, and refuses worker tokens on team routes', async () => {
    const ok = await inject('GET', '/api/v1/worker/me', worker);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ id: workerId, name: 'mac-mini-1' });
    const teamThere = await inject('GET', '/api/v1/worker/me', team);
    expect(teamThere.statusCode).toBe(401);
    expect(teamThere.json().error.code).toBe('WORKER_TOKEN_INVALID');
    expect(teamThere.json().error.message).toMatch(/not a team’s API token/);
    const none = await inject('GET', '/api/v1/worker/me', {});
    expect(none.json().error.code).toBe('WORKER_TOKEN_INVALID');
    const workerElsewhere = await inject('GET', '/api/v1/keys', worker);
    expect(workerElsewhere.statusCode).toBe(401);
    expect(workerElsewhere.json().error.code).toBe('API_TOKEN_INVALID');
  });

  it('hands out credentials only for a job leased to the asking worker', async () => {
    const name = `${workerId}${me}`;
    const before = await inject('POST', `/api/v1/worker/jobs/${jobId}/credentials`, worker, { worker: name });
    expect(before.statusCode).toBe(409);
    expect(before.json().error.code).toBe('JOB_NOT_LEASED');
    // This worker's queue claims the job (whatever the queue: the jobs table, or pg-boss on PostgreSQL).
    const { store, deps } = svc.storage;
    held = await openJobQueue(store, deps, {
      worker: name,
      concurrency: 1,
      leaseMs: 60_000,
      pollMs: 20,
      sleep: realSleep,
      clock,
    });
    let running!: (id: string) => void;
    const claimed = new Promise<string>((r) => {
      running = r;
    });
    held.work(['deploy'], async (job) => {
      running(job.id);
      await finish;
    });
    expect(await claimed).toBe(jobId);
    // Another worker's name (even spelled with this token's id) cannot speak for it.
    for (const other of [`wtk_other${me}`, `${workerId}@elsewhere:2`]) {
      const r = await inject('POST', `/api/v1/worker/jobs/${jobId}/credentials`, worker, { worker: other });
      expect(r.json().error.code, other).toBe('JOB_NOT_LEASED');
    }
    const res = await inject('POST', `/api/v1/worker/jobs/${jobId}/credentials`, worker, { worker: name });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    creds = res.json();
    const claims = decodeJwt(creds.appStoreConnect.token);
    expect(decodeProtectedHeader(creds.appStoreConnect.token)).toMatchObject({ alg: 'ES256', kid: KEY_ID });
    expect(claims.iss).toBe(ISSUER_ID);
    expect(creds.appStoreConnect.keyId).toBe(KEY_ID);
    // Short-lived: 10 minutes, well under Apple's 20.
    expect(claims.exp! - claims.iat!).toBe(600);
    expect(Date.parse(creds.appStoreConnect.expiresAt) / 1000).toBe(claims.exp);
    expect(creds.artifact).toMatchObject({ size: ipa.length, filename: 'App.ipa' });
    expect(creds.artifact.url).toMatch(/^\/api\/v1\/worker\/artifacts\/art_\w+\?team=.+&expires=\d+&sig=/);
    // Asked again, the same token comes back: one JWT per key, not one per request.
    const again = await inject('POST', `/api/v1/worker/jobs/${jobId}/credentials`, worker, {
      worker: `${workerId}${me}`,
    });
    expect(again.json().appStoreConnect.token).toBe(creds.appStoreConnect.token);
    // Build env values and uploads are for build jobs only: this deploy has its artifact and no build.
    const env = await inject('POST', `/api/v1/worker/jobs/${jobId}/build-env`, worker, { worker: name });
    expect(env.statusCode).toBe(409);
    expect(env.json().error.code).toBe('DEPLOY_STATE_CONFLICT');
    const up = await svc.app.inject({
      method: 'POST',
      url: `/api/v1/worker/jobs/${jobId}/artifact`,
      headers: { ...worker, 'content-type': 'application/octet-stream', 'x-ascend-worker': name },
      payload: ipa,
    });
    expect(up.json().error.code).toBe('DEPLOY_STATE_CONFLICT');
    // A team token cannot ask for them either.
    const asTeam = await inject('POST', `/api/v1/worker/jobs/${jobId}/credentials`, team, { worker: name });
    expect(asTeam.statusCode).toBe(401);
    // Once the lease has passed without a renewal, no more credentials.
    clock.advance(61_000);
    const lapsed = await inject('POST', `/api/v1/worker/jobs/${jobId}/credentials`, worker, { worker: name });
    expect(lapsed.json().error.code).toBe('JOB_NOT_LEASED');
  });

  it('serves the artifact by byte range to a worker with a valid signed URL', async () => {
    const url = creds.artifact.url;
    const part = await inject('GET', url, { ...worker, range: 'bytes=100-1123' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-1123/${ipa.length}`);
    expect(part.rawPayload.equals(ipa.subarray(100, 1124))).toBe(true);
    const tail = await inject('GET', url, { ...worker, range: 'bytes=-22' });
    expect(tail.rawPayload.equals(ipa.subarray(ipa.length - 22))).toBe(true);
    const open = await inject('GET', url, { ...worker, range: `bytes=${ipa.length - 5}-` });
    expect(open.rawPayload.equals(ipa.subarray(ipa.length - 5))).toBe(true);
    const whole = await inject('GET', url, worker);
    expect(whole.statusCode).toBe(200);
    expect(whole.rawPayload.equals(ipa)).toBe(true);
    for (const bad of [`bytes=${ipa.length}-`, 'bytes=5-2', 'bytes=0-1,4-5', 'items=0-1', 'bytes=-0']) {
      const r = await inject('GET', url, { ...worker, range: bad });
      expect(r.statusCode, bad).toBe(416);
      expect(r.json().error.code).toBe('RANGE_NOT_SATISFIABLE');
      expect(r.headers['content-range']).toBe(`bytes */${ipa.length}`);
    }
  });

  it('refuses a tampered, foreign or expired signed URL, and a URL without the worker token', async () => {
    const url = creds.artifact.url;
    const noToken = await inject('GET', url, { range: 'bytes=0-1' });
    expect(noToken.statusCode).toBe(401);
    const teamToken = await inject('GET', url, { ...team, range: 'bytes=0-1' });
    expect(teamToken.json().error.code).toBe('WORKER_TOKEN_INVALID');
    const tampered = url.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    const t = await inject('GET', tampered, { ...worker, range: 'bytes=0-1' });
    expect(t.statusCode).toBe(403);
    expect(t.json().error.code).toBe('ARTIFACT_URL_INVALID');
    const later = url.replace(/expires=(\d+)/, (_m, e: string) => `expires=${Number(e) + 3600}`);
    expect((await inject('GET', later, { ...worker, range: 'bytes=0-1' })).json().error.code).toBe(
      'ARTIFACT_URL_INVALID',
    );
    clock.advance(11 * 60_000);
    const expired = await inject('GET', url, { ...worker, range: 'bytes=0-1' });
    expect(expired.statusCode).toBe(403);
    expect(expired.json().error.message).toMatch(/expired/);
  });

  it('never logs or stores the minted token or the URL signature', async () => {
    const sig = new URL(creds.artifact.url, 'http://x').searchParams.get('sig')!;
    const text = logs.join('\n');
    expect(text).toContain('/api/v1/worker/artifacts/');
    expect(text).not.toContain(creds.appStoreConnect.token);
    expect(text).not.toContain(sig);
    const { store } = svc.storage;
    const tables = await store.db.introspection.getTables();
    for (const t of tables.filter((x) => !store.schema || x.schema === store.schema)) {
      const rows = await store.db
        .selectFrom(t.name as 'jobs')
        .selectAll()
        .execute();
      const dump = JSON.stringify(rows);
      expect(dump, t.name).not.toContain(creds.appStoreConnect.token);
      expect(dump, t.name).not.toContain(sig);
    }
  });

  it('stops accepting a revoked worker token', async () => {
    await revokeWorkerToken(svc.storage.store, svc.storage.deps, workerId);
    const res = await inject('GET', '/api/v1/worker/me', worker);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('WORKER_TOKEN_INVALID');
  });
});
