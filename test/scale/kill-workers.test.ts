import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAscClient } from '../../src/asc/http/client.js';
import { listBuildUploads } from '../../src/asc/resources/build-uploads.js';
import { listBuilds } from '../../src/asc/resources/builds.js';
import { realSleep, seededRandom } from '../../src/core/clock.js';
import { createTokenProvider } from '../../src/credentials/token.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../../src/sample/builder.js';
import { bossSchemaOf } from '../../src/server/queue/pg-boss-queue.js';
import { openStore, type Store } from '../../src/server/store/open.js';
import { describeStores } from '../../src/server/store/testing/dialects.js';
import { databaseUrlOf } from '../../src/server/store/testing/service.js';
import { type Proc, startAscend, stop } from './processes.js';

/**
 * DESIGN §4 scale-out: real processes — a simulator with Apple-like faults, a server with no in-process
 * workers, three `ascend worker`s on PostgreSQL — 30 deploys of 5 apps, two workers SIGKILLed mid-upload at
 * seeded moments. Every deploy must end succeeded, Apple must hold exactly one build per build number, and
 * no upload may be left waiting for bytes.
 */
const SEED = Number(process.env.ASCEND_SCALE_SEED ?? 7);
const APPS = 5;
const PER_APP = 6;
const FAULTS = '5xx=0.05,reset=0.02,429=0.01,drop-response=0.01';
const bundle = (i: number) => `com.example.scale.app${i}`;
const appId = (i: number) => String(2000000001 + i);

function seedFile(path: string) {
  const team = 'SCALETEAM1';
  writeFileSync(
    path,
    JSON.stringify({
      teams: [{ id: team, name: 'Scale', issuerId: '7a1b2c3d-4e5f-4a6b-9c8d-0e1f2a3b4c5d', agreementsSigned: true }],
      apps: Array.from({ length: APPS }, (_, i) => ({
        id: appId(i),
        team,
        bundleId: bundle(i),
        name: `Scale ${i}`,
        sku: `SCALE${i}`,
      })),
      betaGroups: Array.from({ length: APPS }, (_, i) => ({
        app: bundle(i),
        name: 'External Testers',
        isInternalGroup: false,
      })),
    }),
  );
}

describeStores('scale-out: 3 worker processes, faults, 2 SIGKILLs mid-upload', (ctx) => {
  if (ctx.dialect === 'sqlite') {
    it.skip('runs on PostgreSQL only (workers on other machines share the server’s PostgreSQL)', () => {});
    return;
  }
  const procs: Proc[] = [];
  let home: string;
  let sim: Proc;
  let server: Proc;
  let serverUrl: string;
  let simUrl: string;
  let admin: Record<string, string>;
  let workerToken: string;
  let store: Store;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'ascend-scale-'));
    seedFile(join(home, 'seed.json'));
    sim = await startAscend(
      [
        'simulator',
        'start',
        '--port',
        '0',
        '--seed',
        'seed.json',
        '--write-key',
        'key.json',
        '--processing-seconds',
        '0.5',
        '--faults',
        FAULTS,
        '--fault-seed',
        String(SEED),
        '--connection-bandwidth',
        '8',
      ],
      {},
      /^http\S+\n/,
      home,
    );
    procs.push(sim);
    simUrl = sim.out.split('\n')[0]!.trim();
    const db = databaseUrlOf(ctx.location());
    server = await startAscend(
      [
        'server',
        'start',
        '--port',
        '0',
        '--data',
        'server',
        '--database-url',
        db,
        '--workers',
        '0',
        '--write-admin-token',
        'admin.token',
        '--write-worker-token',
        'worker.token',
        '--api-url',
        simUrl,
      ],
      {},
      /ascend server: (\S+)\n/,
      home,
    );
    procs.push(server);
    serverUrl = /ascend server: (\S+)/.exec(server.out)![1]!;
    admin = { authorization: `Bearer ${readFileSync(join(home, 'admin.token'), 'utf8').trim()}` };
    workerToken = readFileSync(join(home, 'worker.token'), 'utf8').trim();
    store = await openStore(ctx.location());
    const k = JSON.parse(readFileSync(join(home, 'key.json'), 'utf8'));
    const added = await fetch(`${serverUrl}/api/v1/keys`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'scale', keyId: k.key_id, issuerId: k.issuer_id, privateKey: k.key }),
    });
    expect(added.status, await added.clone().text()).toBe(201);
    // One key for every deploy: let it run as many at once as the three workers take (3 × 3), as a team with
    // that many workers would; the default (2 per key) would only slow the run down.
    const limit = await fetch(`${serverUrl}/api/v1/settings`, {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ deploysPerKey: 9 }),
    });
    expect(limit.status, await limit.clone().text()).toBe(200);
  }, 90_000);

  afterAll(async () => {
    for (const p of procs.reverse()) await stop(p);
    await store?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const startWorker = async () => {
    const w = await startAscend(
      [
        'worker',
        '--database-url',
        databaseUrlOf(ctx.location()),
        '--server',
        serverUrl,
        '--token',
        '@env:ASCEND_WORKER_TOKEN',
        '--concurrency',
        '3',
        '--lease-seconds',
        '3',
        '--labels',
        'linux',
        '--api-url',
        simUrl,
      ],
      { ASCEND_WORKER_TOKEN: workerToken, ASCEND_EXTRA_TRUSTED_ROOTS: SAMPLE_ROOT_SHA256 },
      /ascend worker: (\S+) ready/,
      home,
    );
    procs.push(w);
    return w;
  };

  // The queue on PostgreSQL is pg-boss: who holds a deploy's job is in queue_leases, its retries in pg-boss's table.
  const boss = () => sql.table(`${bossSchemaOf(store)}.job`);
  const holderOf = async (deployId: string) =>
    (
      await sql<{ worker: string }>`select l.worker from queue_leases l join ${boss()} j on j.id::text = l.job_id
        where j.data->>'deployId' = ${deployId}`.execute(store.db)
    ).rows[0]?.worker;
  const retriesOf = async (deployId: string) =>
    Number(
      (
        await sql<{
          n: number;
        }>`select max(retry_count) as n from ${boss()} where data->>'deployId' = ${deployId}`.execute(store.db)
      ).rows[0]?.n ?? 0,
    );

  it('30 deploys of 5 apps end succeeded, once each, with two workers killed mid-upload', async () => {
    const workers = [await startWorker(), await startWorker(), await startWorker()];
    const pidOf = (w: Proc) => w.child.pid!;
    // 30 builds: 6 per app, each a distinct build number of version 1.0.0, ~9 MB (two of Apple's parts).
    const artifacts: string[] = [];
    for (let n = 0; n < APPS * PER_APP; n++) {
      const app = n % APPS;
      const build = String(100 + Math.floor(n / APPS));
      const file = join(home, `b${n}.ipa`);
      await buildIpa(file, { bundleId: bundle(app), version: '1.0.0', build, payloadBytes: 9 * 1024 * 1024 });
      const art = await fetch(`${serverUrl}/api/v1/artifacts`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/octet-stream', 'x-filename': `App${app}.ipa` },
        body: readFileSync(file),
      });
      expect(art.status).toBe(201);
      rmSync(file);
      artifacts.push(((await art.json()) as { id: string }).id);
    }
    const deployIds: string[] = [];
    for (const artifactId of artifacts) {
      const d = await fetch(`${serverUrl}/api/v1/deploys`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ artifactId, groups: ['External Testers'], whatsNew: 'Scale' }),
      });
      expect(d.status).toBe(202);
      deployIds.push(((await d.json()) as { id: string }).id);
    }

    // Two kills at seeded moments: when the a-th and b-th deploy is seen in its upload step, the worker
    // holding it is killed (the upload step covers create, reserve, the parts and commit).
    const random = seededRandom(SEED);
    const moments = [1 + Math.floor(random() * 3), 4 + Math.floor(random() * 5)];
    const seenUploading = new Set<string>();
    const killed: { pid: number; deployId: string }[] = [];
    let ended: { id: string; state: string; error: string | null }[] = [];
    for (let i = 0; i < 2400; i++) {
      const rows = await store.db.selectFrom('deploys').select(['id', 'state', 'steps', 'error']).execute();
      ended = rows.filter((r) => ['succeeded', 'failed', 'cancelled'].includes(r.state));
      if (ended.length === deployIds.length) break;
      for (const r of rows) {
        const uploading = r.steps.includes('{"step":"upload","status":"running"');
        if (r.state !== 'running' || !uploading || seenUploading.has(r.id)) continue;
        seenUploading.add(r.id);
        if (killed.length >= moments.length || seenUploading.size < moments[killed.length]!) continue;
        const holder = await holderOf(r.id);
        const pid = Number(/:(\d+)$/.exec(holder ?? '')?.[1]);
        const victim = workers.find(
          (w) => pidOf(w) === pid && w.child.exitCode === null && w.child.signalCode === null,
        );
        if (!victim) continue;
        victim.child.kill('SIGKILL');
        killed.push({ pid, deployId: r.id });
      }
      await realSleep(50);
    }
    expect(killed).toHaveLength(2);
    // The survivor stops cleanly on SIGTERM: no job left claimed by it.
    const survivor = workers.find((w) => w.child.exitCode === null && w.child.signalCode === null)!;
    const exit = new Promise<number | null>((r) => survivor.child.once('exit', (code) => r(code)));
    survivor.child.kill('SIGTERM');
    expect(await exit).toBe(0);
    const held = await sql<{ worker: string }>`select worker from queue_leases`.execute(store.db);
    expect(held.rows.filter((l) => l.worker.endsWith(`:${survivor.child.pid}`))).toEqual([]);
    const failed = ended.filter((r) => r.state !== 'succeeded');
    expect(failed, JSON.stringify(failed)).toEqual([]);
    expect(ended).toHaveLength(30);
    // The killed deploys were taken over once their lease lapsed (a retry of their job) and resumed.
    for (const k of killed) expect(await retriesOf(k.deployId)).toBeGreaterThan(0);

    // At Apple: exactly one build per build number, and every upload complete (none left awaiting bytes).
    const key = JSON.parse(readFileSync(join(home, 'key.json'), 'utf8'));
    const apple = createAscClient({
      baseUrl: simUrl,
      tokens: createTokenProvider({
        keyId: key.key_id,
        issuerId: key.issuer_id,
        privateKeyPem: key.key,
        inHouse: false,
        sources: { keyId: '', issuerId: '', privateKey: '' },
      }),
    });
    for (let a = 0; a < APPS; a++) {
      const { builds } = await listBuilds(apple, { appId: appId(a), version: '1.0.0' });
      const numbers = builds.map((b) => b.attributes?.version).sort();
      expect(numbers, bundle(a)).toEqual(['100', '101', '102', '103', '104', '105']);
      const uploads = await listBuildUploads(apple, appId(a), { version: '1.0.0' });
      expect(
        uploads.filter((u) => u.attributes?.state?.state !== 'COMPLETE').map((u) => u.attributes?.state?.state),
      ).toEqual([]);
    }
  }, 240_000);
});
