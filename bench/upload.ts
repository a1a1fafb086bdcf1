import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../src/sample/builder.js';
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

/** When each step of the uploader began, in ms after the command started (from its `--json` events). */
type Steps = Partial<Record<'create' | 'reserve' | 'parts' | 'commit' | 'processing' | 'done', number>>;

/** Runs a command under GNU time for its peak RSS; returns wall ms, peak RSS (MB), stdout and step times. */
function measured(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ms: number; rssMB: number; stdout: string; code: number | null; steps: Steps }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'RSS_KB=%M', process.execPath, BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const steps: Steps = {};
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    // The uploader's JSON events mark when each step starts.
    child.stderr.on('data', (d) => {
      const at = performance.now() - start;
      stderr += d;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const event = /"event":"(?:upload: )?(create|reserve|parts|commit|processing|done)\b/.exec(line)?.[1] as
          | keyof Steps
          | undefined;
        if (event && steps[event] === undefined) steps[event] = at;
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const kb = Number(/RSS_KB=(\d+)/.exec(stderr)?.[1] ?? 'NaN');
      if (code !== 0) process.stderr.write(stderr.slice(-2000));
      resolve({ ms: performance.now() - start, rssMB: kb / 1024, stdout, code, steps });
    });
  });
}

const s = (ms: number | undefined) => (ms === undefined ? '?' : `${fmt(ms / 1000)} s`);

/**
 * A 1 GiB and a 4 GiB upload through the simulator run as a separate process with `--bandwidth 100
 * --connection-bandwidth 10` (MB/s): throughput against the 100 MB/s link, and the uploader's peak RSS.
 */
export async function benchUpload(
  tmp: string,
  sizesGiB = [1, 4],
  concurrencies = [16],
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
          // The sample .ipa's profile is signed by the sample root, not Apple's.
          ASCEND_EXTRA_TRUSTED_ROOTS: SAMPLE_ROOT_SHA256,
        };
        // --no-wait: measure the transfer and commit, not the simulated processing time.
        const r = await measured(
          ['upload', file, '--api-url', sim.url, '--json', '--no-wait', '--concurrency', String(concurrency)],
          env,
        );
        if (r.code !== 0) throw new Error(`upload exited ${r.code}`);
        const bytes = statSync(file).size;
        const st = r.steps;
        const partsMs = (st.commit ?? Number.NaN) - (st.parts ?? Number.NaN);
        const whole = bytes / 1e6 / (r.ms / 1000);
        const parts = bytes / 1e6 / (partsMs / 1000);
        rows.push(
          `| ${gib} GiB | ${concurrency} | ${fmt(partsMs / 1000)} s, ${fmt(parts)} MB/s (${fmt(parts)} %) | ${fmt(r.ms / 1000)} s, ${fmt(whole)} MB/s (${fmt(whole)} %) | ${s(st.create)} | ${s((st.parts ?? 0) - (st.create ?? 0))} | ${s(r.ms - (st.commit ?? r.ms))} | ${fmt(r.rssMB, 0)} MB |`,
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
    'together, 10 MB/s per connection, 5 MiB parts. "Parts" is the transfer (first part to the commit request, against',
    'the link); "whole command" is from spawning the process to its exit. The last three columns say where the rest',
    'goes: start-up (Node, IPA inspection and checks, up to the create request), the API calls before the first part',
    '(create, reserve), and the commit to exit (the simulator digests parts as they arrive, so the commit answers at once).',
    'Targets (DESIGN §4): ≥ 90 % of the link; peak RSS ≤ 150 MB and no growth from 1 to 4 GiB.',
    '',
    '| IPA | concurrency | parts (of 100 MB/s) | whole command (of 100 MB/s) | start-up to create | create + reserve | commit to exit | peak RSS of the uploader |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
