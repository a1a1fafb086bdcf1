import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIpa } from '../src/sample/builder.js';
import { fmt } from './lib.js';

const MiB = 1024 * 1024;
const BIN = join(import.meta.dirname, '..', 'bin', 'ascend');

/** Starts `ascend simulator start` as its own process; resolves with its URL and a stop function. */
export async function startSimProcess(args: string[], cwd: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [BIN, 'simulator', 'start', '--port', '0', ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    child.on('exit', (c) => reject(new Error(`simulator exited ${c}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

/** Runs a command under GNU time for its peak RSS; returns wall ms, peak RSS (MB) and stdout. */
function measured(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ms: number; rssMB: number; stdout: string; code: number | null; partsMs: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'RSS_KB=%M', process.execPath, BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let partsAt = 0;
    let commitAt = 0;
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    // The uploader's JSON events mark when the parts phase starts and ends.
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!partsAt && stderr.includes('"event":"parts"')) partsAt = performance.now();
      if (!commitAt && stderr.includes('"event":"commit"')) commitAt = performance.now();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const kb = Number(/RSS_KB=(\d+)/.exec(stderr)?.[1] ?? 'NaN');
      if (code !== 0) process.stderr.write(stderr.slice(-2000));
      resolve({
        ms: Number(process.hrtime.bigint() - start) / 1e6,
        rssMB: kb / 1024,
        stdout,
        code,
        partsMs: commitAt - partsAt,
      });
    });
  });
}

/**
 * A 1 GiB and a 4 GiB upload through the simulator run as a separate process with `--bandwidth 100
 * --connection-bandwidth 10` (MB/s): throughput against the 100 MB/s link, and the uploader's peak RSS.
 */
export async function benchUpload(
  tmp: string,
  sizesGiB = [1, 4],
  concurrencies = [12],
  title = 'Upload through the simulator',
): Promise<string> {
  mkdirSync(tmp, { recursive: true });
  const rows: string[] = [];
  for (const gib of sizesGiB) {
    const file = join(tmp, `upload-${gib}g.ipa`);
    if (!existsSync(file) || statSync(file).size < gib * 1024 * MiB)
      await buildIpa(file, { version: '3.0.0', build: String(gib), payloadBytes: gib * 1024 * MiB });
    for (const concurrency of concurrencies) {
      const dir = join(tmp, `sim-${gib}-${concurrency}`);
      mkdirSync(dir, { recursive: true });
      const sim = await startSimProcess(
        ['--bandwidth', '100', '--connection-bandwidth', '10', '--processing-seconds', '1', '--write-key', 'k.json'],
        dir,
      );
      try {
        const env = {
          ...process.env,
          APP_STORE_CONNECT_API_KEY_PATH: join(dir, 'k.json'),
          ASCEND_HOME: join(dir, 'home'),
        };
        // --no-wait: measure the transfer and commit, not the simulated processing time.
        const r = await measured(
          ['upload', file, '--api-url', sim.url, '--json', '--no-wait', '--concurrency', String(concurrency)],
          env,
        );
        if (r.code !== 0) throw new Error(`upload exited ${r.code}`);
        const bytes = statSync(file).size;
        const whole = bytes / 1e6 / (r.ms / 1000);
        const parts = bytes / 1e6 / (r.partsMs / 1000);
        rows.push(
          `| ${gib} GiB | ${concurrency} | ${fmt(r.partsMs / 1000)} s | ${fmt(parts)} MB/s (${fmt(parts)} %) | ${fmt(r.ms / 1000)} s, ${fmt(whole)} MB/s | ${fmt(r.rssMB, 0)} MB |`,
        );
        writeFileSync(join(dir, 'result.json'), r.stdout);
      } finally {
        sim.stop();
      }
    }
  }
  return [
    `## ${title}`,
    '',
    'The whole `ascend upload FILE --no-wait` command (inspect, checks, create, reserve, every part, commit) against',
    '`ascend simulator start --bandwidth 100 --connection-bandwidth 10` in its own process: 100 MB/s for all parts',
    'together, 10 MB/s per connection, 5 MiB parts. "Parts" is the transfer (first part to last, against the link);',
    '"whole command" adds start-up, IPA checks, API calls and the commit, where the simulator hashes the received file.',
    'Targets (DESIGN §4): ≥ 90 % of the link; peak RSS ≤ 150 MB and no growth from 1 to 4 GiB.',
    '',
    '| IPA | concurrency | parts time | parts throughput (of 100 MB/s) | whole command | peak RSS of the uploader |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
