import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSimulator } from '../simulator/index.js';
import { realSleep } from '../src/core/clock.js';
import { SAMPLE_ROOT_SHA256 } from '../src/sample/builder.js';
import { ensureFirstAdmin } from '../src/server/accounts/bootstrap.js';
import { createService } from '../src/server/service.js';
import { listDeployEvents } from '../src/server/store/deploys.js';
import { groupAlive } from '../src/server/worker/process-group.js';
import { fmt } from './lib.js';

const TSX = resolve(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
const MAKE_IPA = resolve(import.meta.dirname, '..', 'test', 'fixtures', 'make-ipa.ts');
const LINES = 100_000;

interface Case {
  name: string;
  build: Record<string, unknown>;
  /** Cancel once the build's first line is stored. */
  cancel?: boolean;
}

interface Row {
  name: string;
  state: string;
  code: string;
  exitCode: string;
  seconds: number;
  peakRssMb: number;
  logRows: number;
  storedLines: number;
  fileLines: number;
  leftRunning: boolean;
}

/**
 * The four build-step cases of docs/SERVER.md "Build steps" through a whole in-process server (SQLite, one
 * worker labelled `linux`, the simulator as Apple): 100,000 log lines then a sample .ipa deployed to the end,
 * a build that ignores SIGTERM and hangs past its 1 s timeout (SIGKILL after a 2 s grace), one that exits 2,
 * and one cancelled while running. Each prints its process group id first, checked gone afterwards.
 */
export async function benchBuildSteps(): Promise<string> {
  const sim = await startSimulator({ processingSeconds: 0.5, reviewSeconds: 0.5 });
  const dir = mkdtempSync(join(tmpdir(), 'ascend-bench-build-'));
  const svc = await createService({
    dataDir: dir,
    apiUrl: sim.url,
    workers: 1,
    pollMs: 50,
    extraTrustedRoots: [SAMPLE_ROOT_SHA256],
    workerLabels: ['linux'],
    buildEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    buildDir: join(dir, 'builds'),
    buildGraceMs: 2000,
    monitorEveryMs: 0,
  });
  const rows: Row[] = [];
  try {
    const { store, deps } = svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    const auth = { authorization: `Bearer ${first.apiToken}` };
    const key = sim.createKey({ role: 'APP_MANAGER' });
    await svc.app.inject({
      method: 'POST',
      url: '/api/v1/keys',
      headers: auth,
      payload: { name: 'bench', keyId: key.keyId, issuerId: key.issuerId, privateKey: key.privateKeyPem },
    });
    const print = `${process.execPath} -e 'for (let i = 0; i < ${LINES}; i++) console.log("line " + i + " of the build output")'`;
    const cases: Case[] = [
      {
        name: `${LINES.toLocaleString('en-US')} log lines, then a sample .ipa deployed`,
        build: {
          command: `echo "pgid $$"; ${print} && ${TSX} ${MAKE_IPA} out/App.ipa com.example.sandbox.one 7.0.0 1`,
          artifact: 'out/*.ipa',
          timeout: 600,
        },
      },
      {
        name: 'hangs past its 1 s timeout, ignoring SIGTERM',
        build: { command: `trap '' TERM; echo "pgid $$"; sleep 1000 & wait`, artifact: 'x', timeout: 1 },
      },
      {
        name: 'exits with code 2',
        build: { command: 'echo "pgid $$"; echo "error: failed" >&2; exit 2', artifact: 'x', timeout: 60 },
      },
      {
        name: 'cancelled while running',
        build: { command: 'echo "pgid $$"; sleep 1000 & sleep 1000', artifact: 'x', timeout: 600 },
        cancel: true,
      },
    ];
    for (const c of cases) {
      const base = process.memoryUsage().rss;
      let peak = base;
      const t0 = performance.now();
      const res = await svc.app.inject({
        method: 'POST',
        url: '/api/v1/deploys',
        headers: auth,
        payload: { build: c.build, groups: ['External Testers'], whatsNew: 'bench' },
      });
      if (res.statusCode !== 202) throw new Error(`creating the deploy answered ${res.statusCode}: ${res.body}`);
      const id = res.json().id as string;
      let d: { state: string; error?: { code: string } | null; steps: { exitCode?: number | null }[] };
      let cancelled = false;
      for (;;) {
        peak = Math.max(peak, process.memoryUsage().rss);
        d = (await svc.app.inject({ method: 'GET', url: `/api/v1/deploys/${id}`, headers: auth })).json();
        if (['succeeded', 'failed', 'cancelled'].includes(d.state)) break;
        if (c.cancel && !cancelled && d.state === 'running') {
          const evs = await listDeployEvents(store, first.team.id, id, { limit: 10 });
          if (evs.some((e) => e.type === 'log')) {
            await svc.app.inject({ method: 'POST', url: `/api/v1/deploys/${id}/cancel`, headers: auth });
            cancelled = true;
          }
        }
        await realSleep(25);
      }
      const seconds = (performance.now() - t0) / 1000;
      const logs: string[] = [];
      for (let after = 0; ; ) {
        const evs = await listDeployEvents(store, first.team.id, id, { afterSeq: after, limit: 1000 });
        if (!evs.length) break;
        after = evs.at(-1)!.seq;
        for (const e of evs) {
          const data = e.data as { step?: string; text: string };
          if (e.type === 'log' && data.step === 'build') logs.push(data.text);
        }
      }
      const file = await svc.app.inject({ method: 'GET', url: `/api/v1/deploys/${id}/build-log`, headers: auth });
      const pgid = Number(/pgid (\d+)/.exec(logs[0] ?? '')?.[1]);
      rows.push({
        name: c.name,
        state: d.state,
        code: d.error?.code ?? '—',
        exitCode: String(d.steps[0]?.exitCode ?? '—'),
        seconds,
        peakRssMb: (peak - base) / 2 ** 20,
        logRows: logs.length,
        storedLines: logs.reduce((n, t) => n + t.split('\n').length, 0),
        fileLines: file.statusCode === 200 ? file.body.trimEnd().split('\n').length : 0,
        leftRunning: pgid > 0 ? await groupAlive(pgid) : true,
      });
    }
  } finally {
    await svc.close({ timeoutMs: 5000 });
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    '## Build steps (a deploy that starts by running a build command)',
    '',
    'One run each through the whole in-process server (SQLite, one worker labelled `linux`, the simulator as',
    'Apple): the deploy created over the API, polled until it ends. Peak RSS is the growth of the server',
    "process's resident memory while the case ran. Log rows are the build's `log` events; stored lines are the",
    'lines they hold (the first 20,000 live, then a marker and the last 200); file lines are those of the whole',
    'log file (GET /api/v1/deploys/:id/build-log). "Left running" checks the',
    "build's process group afterwards (zombies a non-reaping PID 1 keeps do not count).",
    '',
    '| Case | End state | Error code | Exit code | Seconds | Peak RSS growth (MB) | Log rows | Stored lines | File lines | Left running |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.state} | ${r.code} | ${r.exitCode} | ${fmt(r.seconds, 2)} | ${fmt(r.peakRssMb)} | ${r.logRows} | ${r.storedLines.toLocaleString('en-US')} | ${r.fileLines.toLocaleString('en-US')} | ${r.leftRunning ? 'yes' : 'no'} |`,
    ),
  ].join('\n');
}
