import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { ensureFirstAdmin } from '../src/server/accounts/bootstrap.js';
import { createService } from '../src/server/service.js';
import { createArtifact } from '../src/server/store/artifacts.js';
import { createDeploy } from '../src/server/store/deploys.js';
import { addKey } from '../src/server/store/keys.js';
import { withDefaultUser } from '../src/server/store/open.js';
import { refreshStatistics } from '../src/server/store/statistics.js';
import { fmt } from './lib.js';

const DEPLOYS = 10_000;
const CLIENTS = 50;
const PG_URL = process.env.ASCEND_TEST_DATABASE_URL ?? 'postgres://localhost/test';

async function pgAdmin(sql: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: withDefaultUser(PG_URL, pg.defaults.user) });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;

/** One database: 10,000 deploys, then list pages under 50 clients and the cost of creating a deploy. */
async function one(tmp: string, dialect: 'sqlite' | 'postgres') {
  mkdirSync(tmp, { recursive: true });
  const dir = mkdtempSync(join(tmp, `server-${dialect}-`));
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  if (dialect === 'postgres') await pgAdmin(`create schema ${schema}`);
  const svc = await createService({
    dataDir: dir,
    ...(dialect === 'postgres' ? { databaseUrl: `${PG_URL}?schema=${schema}` } : {}),
    apiUrl: 'http://127.0.0.1:9',
    workers: 0,
  });
  try {
    const { store, vault, deps } = svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    const teamId = first.team.id;
    const { generateKeyPairSync } = await import('node:crypto');
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const key = await addKey(store, vault, deps, teamId, {
      name: 'bench',
      keyId: 'BENCH12345',
      issuerId: '69a6de70-03db-47e3-e053-5b8c7c11a4d1',
      privateKey: pem,
    });
    const art = await createArtifact(store, deps, teamId, {
      sha256: randomBytes(32).toString('hex'),
      size: 1,
      filename: 'App.ipa',
      facts: {},
      findings: [],
    });
    const seedStart = performance.now();
    for (let i = 0; i < DEPLOYS; i++)
      await createDeploy(store, deps, teamId, { artifactId: art.id, keyRef: key.id, options: { groups: ['QA'] } });
    const seedMs = performance.now() - seedStart;
    const url = await svc.listen('127.0.0.1', 0);
    const authorization = `Bearer ${first.apiToken}`;
    const load = () =>
      autocannon({
        url: `${url}/api/v1/deploys?limit=50`,
        connections: CLIENTS,
        duration: 10,
        headers: { authorization },
      });
    // Right after seeding, PostgreSQL still has the statistics of an empty table (autovacuum analyses within
    // about a minute): measured once like that, then after refreshStatistics, as a running server sees it.
    const stale = dialect === 'postgres' ? await load() : undefined;
    const analysed = await refreshStatistics(store);
    const list = await load();
    const creates: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      const res = await fetch(`${url}/api/v1/deploys`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ artifactId: art.id, groups: ['QA'] }),
      });
      if (res.status !== 202) throw new Error(`create answered ${res.status}`);
      creates.push(performance.now() - t);
    }
    return {
      dialect,
      seedMs,
      analysed,
      stale: stale && { rps: stale.requests.average, p50: stale.latency.p50, p99: stale.latency.p99 },
      rps: list.requests.average,
      p50: list.latency.p50,
      p99: list.latency.p99,
      errors: list.errors + list.non2xx,
      createP95: p95(creates),
      rssMb: process.memoryUsage().rss / 1024 / 1024,
    };
  } finally {
    await svc.close({ timeoutMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
    if (dialect === 'postgres') await pgAdmin(`drop schema if exists ${schema} cascade`);
  }
}

/**
 * The server's API under load: `GET /api/v1/deploys` (a page of 50, newest first) with 10,000 deploys in
 * the team and 50 concurrent clients for 10 s, and `POST /api/v1/deploys` one at a time (p95 of 200).
 */
export async function benchServer(tmp: string): Promise<string> {
  const rows: string[] = [];
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const r = await one(tmp, dialect).catch((err: Error) => ({ dialect, failed: err.message }));
    if ('failed' in r) {
      rows.push(`| ${dialect} | skipped: ${r.failed} | | | | | |`);
      continue;
    }
    if (r.stale)
      rows.push(
        `| ${r.dialect}, statistics of an empty table | ${fmt(r.stale.rps, 0)} | ${fmt(r.stale.p50, 1)} | ${fmt(r.stale.p99, 1)} | | | |`,
      );
    rows.push(
      `| ${r.dialect} | ${fmt(r.rps, 0)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.errors} | ${fmt(r.createP95, 1)} | ${fmt(r.rssMb, 0)} |`,
    );
  }
  return [
    '## Server API (GET /api/v1/deploys with 10,000 deploys, 50 clients)',
    '',
    `In-process server, workers off; ${DEPLOYS} deploys in one team; autocannon 10 s at ${CLIENTS} connections on`,
    '`GET /api/v1/deploys?limit=50`; creating a deploy is `POST /api/v1/deploys` (stored and queued), p95 of 200 in',
    'a row. RSS is the benchmark process (server and load generator together) at the end. PostgreSQL is measured',
    'twice: right after seeding (its statistics still those of the empty table, so the page was planned as a sort',
    'of all 10,000 rows), then after `refreshStatistics` (what autovacuum does within a minute, and what',
    '`ascend server start` now runs at start), when the page walks the (team_id, created_at, id) index.',
    '',
    '| database | list req/s | list p50 ms | list p99 ms | errors | create p95 ms | RSS MB |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
