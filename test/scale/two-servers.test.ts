import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { realSleep } from '../../src/core/clock.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../../src/sample/builder.js';
import { ensureFirstAdmin } from '../../src/server/accounts/bootstrap.js';
import { bossSchemaOf } from '../../src/server/queue/pg-boss-queue.js';
import { createService, type Service } from '../../src/server/service.js';
import { migrationList } from '../../src/server/store/migrate.js';
import { scaleDb } from '../../src/server/store/scale.js';
import { describeStores } from '../../src/server/store/testing/dialects.js';
import { bearerFor, databaseUrlOf } from '../../src/server/store/testing/service.js';

/**
 * Two servers behind one PostgreSQL schema (docs/SERVER.md, "Scaling out"): started at once, they migrate
 * once, serve the same data, and a deploy running on one is cancelled through the other.
 */
describeStores('two servers on one database', (ctx) => {
  if (ctx.dialect !== 'postgres') {
    it.skip('several servers share PostgreSQL only', () => {});
    return;
  }
  let sim: Simulator;
  let runner: Service; // works the queue
  let front: Service; // --workers 0: API only
  const dirs: string[] = [];
  let owner: Record<string, string>;
  let releaser: Record<string, string>;

  beforeAll(async () => {
    // Processing takes long at this Apple, so a deploy sits in its processing wait until it is cancelled.
    sim = await startSimulator({ host: '127.0.0.1', port: 0, processingSeconds: 600, partSizeBytes: 256 * 1024 });
    const loc = await ctx.freshLocation();
    const [a, b] = [mkdtempSync(join(tmpdir(), 'ascend-a-')), mkdtempSync(join(tmpdir(), 'ascend-b-'))];
    dirs.push(a, b);
    // Artifacts live on storage both servers reach (here one folder).
    mkdirSync(join(a, 'artifacts'), { recursive: true });
    symlinkSync(join(a, 'artifacts'), join(b, 'artifacts'));
    const common = {
      databaseUrl: databaseUrlOf(loc),
      masterKey: randomBytes(32).toString('base64'),
      apiUrl: sim.url,
      sleep: realSleep,
      pollMs: 50,
      monitorEveryMs: 0,
      extraTrustedRoots: [SAMPLE_ROOT_SHA256],
    };
    [runner, front] = await Promise.all([
      createService({ ...common, dataDir: a, workers: 1 }),
      createService({ ...common, dataDir: b, workers: 0 }),
    ]);
    const { store, deps } = front.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    owner = { authorization: `Bearer ${first.apiToken}` };
    releaser = await bearerFor(store, deps, first.team.id, 'releaser');
  });
  afterAll(async () => {
    await front?.close({ timeoutMs: 2000 });
    await runner?.close({ timeoutMs: 2000 });
    await sim?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('started at once, they ran each migration once and installed pg-boss once', async () => {
    const db = runner.storage.store.db;
    const ran = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
    expect(ran.rows.map((r) => r.name)).toEqual(Object.keys(migrationList(runner.storage.store)));
    const boss = bossSchemaOf(runner.storage.store);
    const versions = await sql<{ n: string }>`select count(*) as n from ${sql.table(`${boss}.version`)}`.execute(db);
    expect(Number(versions.rows[0]!.n)).toBe(1);
    expect([runner.queue.name, front.queue.name]).toEqual(['pg-boss', 'pg-boss']);
  });

  it('both serve the same data: a key added through one is listed by the other', async () => {
    const k = sim.createKey({ role: 'APP_MANAGER' });
    const added = await front.app.inject({
      method: 'POST',
      url: '/api/v1/keys',
      headers: owner,
      payload: { name: 'shared', keyId: k.keyId, issuerId: k.issuerId, privateKey: k.privateKeyPem },
    });
    expect(added.statusCode).toBe(201);
    const listed = await runner.app.inject({ method: 'GET', url: '/api/v1/keys', headers: owner });
    expect(listed.json().data.map((x: { keyId: string }) => x.keyId)).toEqual([k.keyId]);
    const health = await front.app.inject({ method: 'GET', url: '/api/v1/health' });
    expect(health.json()).toMatchObject({ database: 'postgres', queue: 'pg-boss', workers: 0 });
  });

  it('a deploy queued on the API-only server runs on the other, and a cancel sent to the first stops it', async () => {
    const ipa = join(dirs[0]!, 'App.ipa');
    await buildIpa(ipa, {
      bundleId: 'com.example.sandbox.one',
      version: '1.2.0',
      build: '21',
      payloadBytes: 300 * 1024,
    });
    const artifact = await front.app.inject({
      method: 'POST',
      url: '/api/v1/artifacts',
      headers: { ...releaser, 'content-type': 'application/octet-stream', 'x-filename': 'App.ipa' },
      payload: readFileSync(ipa),
    });
    expect(artifact.statusCode).toBe(201);
    const created = await front.app.inject({
      method: 'POST',
      url: '/api/v1/deploys',
      headers: releaser,
      payload: { artifactId: artifact.json().id, groups: ['External Testers'] },
    });
    expect(created.statusCode).toBe(202);
    const id = created.json().id as string;
    const get = async () =>
      (await front.app.inject({ method: 'GET', url: `/api/v1/deploys/${id}`, headers: releaser })).json();
    // Wait for the upload step: it ends with Apple's processing, which this Apple keeps going for 10 minutes.
    for (let d = await get(); ; d = await get()) {
      if (d.steps.some((s: { step: string; status: string }) => s.step === 'upload' && s.status === 'running')) break;
      expect(d.state).not.toMatch(/failed|succeeded/);
      await realSleep(50);
    }
    expect(runner.queue.running).toBe(1);
    expect(front.queue.running).toBe(0);
    const cancelled = await front.app.inject({
      method: 'POST',
      url: `/api/v1/deploys/${id}/cancel`,
      headers: releaser,
    });
    expect(cancelled.statusCode).toBe(202);
    let d = await get();
    while (d.state === 'running') {
      await realSleep(50);
      d = await get();
    }
    expect(d.state).toBe('cancelled');
    // The flag is spent with the run, and the worker's slot is free again.
    const flags = await scaleDb(front.storage.store).selectFrom('deploy_cancel_requests').selectAll().execute();
    expect(flags).toEqual([]);
    while (runner.queue.running > 0) await realSleep(20);
  });
});
