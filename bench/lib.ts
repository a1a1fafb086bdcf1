import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

export interface Stats {
  runs: number;
  median: number;
  min: number;
  max: number;
  /** (max − min) / median, as a percentage. */
  spreadPct: number;
}

export function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return {
    runs: s.length,
    median: mid,
    min: s[0]!,
    max: s.at(-1)!,
    spreadPct: mid ? ((s.at(-1)! - s[0]!) / mid) * 100 : 0,
  };
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits);

/** Runs a command, returning its wall time in ms, its stdout and exit code. */
export function timed(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ ms: number; stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, stdout, code }));
  });
}

/** Runs a probe script (a child Node process) that prints one JSON line of measurements. */
export async function probe<T>(script: string, args: string[], env?: NodeJS.ProcessEnv): Promise<T> {
  const r = await timed(process.execPath, [script, ...args], { env: { ...process.env, ...env } });
  if (r.code !== 0) throw new Error(`${script} exited ${r.code}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}

export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}`;
}
