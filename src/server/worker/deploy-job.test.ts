import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../simulator/index.js';
import { realSleep, type Sleep, systemClock } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../../sample/builder.js';
import { httpTransport, type PartTransport } from '../../upload/engine.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { AscClients } from '../apple/clients.js';
import { ArtifactFiles } from '../store/artifact-files.js';
import { createArtifact } from '../store/artifacts.js';
import { createDeploy, getDeploy, listDeployEvents, updateDeploy } from '../store/deploys.js';
import type { StoreDeps } from '../store/ids.js';
import { addKey } from '../store/keys.js';
import { scaleDb } from '../store/scale.js';
import { describeStores } from '../store/testing/dialects.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { DEPLOY_JOB, type DeployJobEnv, deployJobHandler, failLostDeploy } from './deploy-job.js';

const quickSleep: Sleep = (ms, signal) => realSleep(Math.min(ms / 20, 100), signal);

describeStores('deploy job: stopped mid-upload or cancelled, then run again', (ctx) => {
  let sim: Simulator;
  let dir: string;
  let env: DeployJobEnv;
  let transport: PartTransport & { close(): Promise<void> };
  let teamId: string;
  let keyRef: string;
  const deps: StoreDeps = { clock: systemClock, randomBytes: (n) => randomBytes(n) };

  beforeAll(async () => {
    // Slow enough (2 MB/s) that the upload is surely under way when the test stops it.
    sim = await startSimulator({
      host: '127.0.0.1',
      port: 0,
      processingSeconds: 0.2,
      partSizeBytes: 256 * 1024,
      bandwidthMBps: 2,
    });
    dir = mkdtempSync(join(tmpdir(), 'ascend-job-'));
    const store = ctx.store();
    const vault = new Vault(store, { current: masterKeyOf(randomBytes(32)) }, deps);
    transport = await httpTransport(4);
    env = {
      store,
      vault,
      deps,
      clients: new AscClients({ baseUrl: sim.url, sleep: quickSleep }),
      files: new ArtifactFiles(join(dir, 'artifacts'), deps.randomBytes),
      sleep: quickSleep,
      random: Math.random,
      transport: async () => transport,
      running: new Map(),
      extraTrustedRoots: [SAMPLE_ROOT_SHA256],
    };
    teamId = (await ensureFirstAdmin(store, deps)).team.id;
    const k = sim.createKey({ role: 'APP_MANAGER' });
    keyRef = (
      await addKey(store, vault, deps, teamId, {
        name: 'k',
        keyId: k.keyId,
        issuerId: k.issuerId ?? null,
        privateKey: k.privateKeyPem,
      })
    ).id;
  });
  afterAll(async () => {
    await transport?.close();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function newDeploy(build: string) {
    const ipa = join(dir, `App-${build}.ipa`);
    await buildIpa(ipa, {
      bundleId: 'com.example.sandbox.one',
      version: '1.2.0',
      build,
      payloadBytes: 3 * 1024 * 1024,
    });
    const put = await env.files!.put(createReadStream(ipa), 10 * 1024 * 1024);
    const art = await createArtifact(env.store, deps, teamId, { ...put, filename: 'App.ipa', facts: {}, findings: [] });
    return createDeploy(env.store, deps, teamId, {
      artifactId: art.id,
      keyRef,
      options: { groups: ['External Testers'], whatsNew: 'Resume' },
    });
  }
  /** Resolves once the deploy has sent upload progress: the upload is under way. */
  async function uploading(id: string): Promise<void> {
    for (let i = 0; i < 400; i++) {
      const events = await listDeployEvents(env.store, teamId, id);
      if (events.some((e) => e.type === 'progress' && (e.data as { sent: number }).sent > 0)) return;
      await realSleep(10);
    }
    throw new Error('the upload never started');
  }
  const job = (deployId: string, signal: AbortSignal, more: { run?: number; attempt?: number } = {}) => ({
    id: `job_${deployId}`,
    kind: DEPLOY_JOB,
    payload: { teamId, deployId, ...(more.run === undefined ? {} : { run: more.run }) },
    attempt: more.attempt ?? 1,
    signal,
  });
  const uploadsOf = (build: string) =>
    sim.store
      .list('buildUploads')
      .filter((u) => (u.attributes as { cfBundleVersion?: string }).cfBundleVersion === build);

  it('a worker stopped mid-upload (lease lost, shutdown) leaves the deploy running; the next run resumes it with one upload', async () => {
    const d = await newDeploy('31');
    const handler = deployJobHandler(env);
    const stop = new AbortController();
    const first = handler(job(d.id, stop.signal));
    await uploading(d.id);
    stop.abort(new Error('worker stopping'));
    await expect(first).rejects.toBeDefined();
    expect((await getDeploy(env.store, teamId, d.id)).state).toBe('running');
    await handler(job(d.id, new AbortController().signal));
    const done = await getDeploy(env.store, teamId, d.id);
    expect(done.state).toBe('succeeded');
    expect(uploadsOf('31')).toHaveLength(1);
    // Steps and log name the uploaded file, never where the server keeps it.
    const shown = JSON.stringify([done.steps, await listDeployEvents(env.store, teamId, d.id, { limit: 1000 })]);
    expect(shown).toContain('uploaded App.ipa');
    expect(shown).not.toContain(dir);
  });

  it('cancel stops a running deploy at a safe point; a retry resumes it without a second upload', async () => {
    const d = await newDeploy('32');
    const handler = deployJobHandler(env);
    const run = handler(job(d.id, new AbortController().signal));
    await uploading(d.id);
    env.running.get(d.id)!.abort();
    await run;
    const cancelled = await getDeploy(env.store, teamId, d.id);
    expect(cancelled.state).toBe('cancelled');
    await updateDeploy(env.store, deps, teamId, d.id, { state: 'queued' }, ['cancelled']);
    await handler(job(d.id, new AbortController().signal));
    expect((await getDeploy(env.store, teamId, d.id)).state).toBe('succeeded');
    expect(uploadsOf('32')).toHaveLength(1);
  });

  it('a job left queued by a cancel does nothing once the deploy is retried: only the new run’s job runs it', async () => {
    const d = await newDeploy('33');
    const handler = deployJobHandler(env);
    // Cancelled while queued (its job stays in the queue), then retried as the route does: a new run.
    await updateDeploy(env.store, deps, teamId, d.id, { state: 'cancelled' }, ['queued']);
    await updateDeploy(env.store, deps, teamId, d.id, { state: 'queued', options: { ...d.options, run: 1 } }, [
      'cancelled',
    ]);
    await handler(job(d.id, new AbortController().signal)); // the old job: its payload names no run
    await handler(job(d.id, new AbortController().signal, { run: 2 }));
    expect((await getDeploy(env.store, teamId, d.id)).state).toBe('queued');
    expect(await listDeployEvents(env.store, teamId, d.id)).toEqual([]);
    await handler(job(d.id, new AbortController().signal, { run: 1 }));
    expect((await getDeploy(env.store, teamId, d.id)).state).toBe('succeeded');
    expect(uploadsOf('33')).toHaveLength(1);
  });

  it('the key slot is the run’s (job id and attempt); a run whose slot was taken stops and the next attempt resumes it', async () => {
    const d = await newDeploy('34');
    const requeued: unknown[] = [];
    const slotted = deployJobHandler({
      ...env,
      keySlots: { leaseMs: 300, retryAfterMs: 1000, requeue: async (p) => void requeued.push(p) },
    });
    const slots = () => scaleDb(env.store).selectFrom('key_slots').selectAll().where('key_ref', '=', keyRef).execute();
    const first = slotted(job(d.id, new AbortController().signal, { attempt: 1 }));
    await uploading(d.id);
    expect((await slots()).map((s) => s.holder)).toEqual([`job_${d.id}:1`]);
    // Its renewal finds the slot gone (it lapsed during a pause and was taken): the run must stop at once.
    await scaleDb(env.store).deleteFrom('key_slots').where('key_ref', '=', keyRef).execute();
    await expect(first).rejects.toMatchObject({ code: 'JOB_NOT_LEASED' });
    expect((await getDeploy(env.store, teamId, d.id)).state).toBe('running');
    await slotted(job(d.id, new AbortController().signal, { attempt: 2 }));
    expect((await getDeploy(env.store, teamId, d.id)).state).toBe('succeeded');
    expect(uploadsOf('34')).toHaveLength(1);
    expect(await slots()).toEqual([]);
    expect(requeued).toEqual([]);
  });

  it('a worker that cannot get the job’s credentials from the server sends the job back; the deploy is not failed', async () => {
    const d = await newDeploy('36');
    const serverDown = deployJobHandler({
      ...env,
      access: {
        open: async () => {
          throw new AscendError('WORKER_SERVER_UNAVAILABLE', 'the server did not hand out this job’s credentials');
        },
      },
    });
    await expect(serverDown(job(d.id, new AbortController().signal))).rejects.toMatchObject({
      code: 'WORKER_SERVER_UNAVAILABLE',
    });
    expect((await getDeploy(env.store, teamId, d.id)).state).toBe('running');
    const states = (await listDeployEvents(env.store, teamId, d.id)).filter((e) => e.type === 'state');
    expect(states.map((e) => (e.data as { state: string }).state)).not.toContain('failed');
    // The next attempt, with the server back, resumes it.
    await deployJobHandler(env)(job(d.id, new AbortController().signal, { attempt: 2 }));
    expect((await getDeploy(env.store, teamId, d.id)).state).toBe('succeeded');
    expect(uploadsOf('36')).toHaveLength(1);
  });

  it('a deploy whose last job the queue gave up on fails with WORKER_LOST, unless a newer run holds it', async () => {
    const d = await newDeploy('35');
    await updateDeploy(env.store, deps, teamId, d.id, { state: 'running' }, ['queued']);
    await failLostDeploy(env, { teamId, deployId: d.id, run: 1 }); // a job of another run: not this deploy's now
    expect((await getDeploy(env.store, teamId, d.id)).state).toBe('running');
    await failLostDeploy(env, { teamId, deployId: d.id });
    const failed = await getDeploy(env.store, teamId, d.id);
    expect(failed.state).toBe('failed');
    expect(failed.error?.code).toBe('WORKER_LOST');
    expect(failed.error?.remedy).toMatch(/retry the deploy/);
    const events = await listDeployEvents(env.store, teamId, d.id);
    expect(events.map((e) => [e.type, (e.data as { error?: { code: string } }).error?.code])).toEqual([
      ['state', 'WORKER_LOST'],
    ]);
    await failLostDeploy(env, { teamId, deployId: d.id }); // told twice: nothing more
    expect(await listDeployEvents(env.store, teamId, d.id)).toHaveLength(1);
  });
});
