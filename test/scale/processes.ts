import { type ChildProcess, spawn } from 'node:child_process';
import { BIN, tempEnv } from '../helpers/cli.js';

export interface Proc {
  child: ChildProcess;
  /** What the process printed before it was ready (the line that matched included). */
  out: string;
  err: () => string;
}

/**
 * Starts `bin/ascend ARGS` and resolves once a stdout line matches `ready`; rejects if it exits first.
 * Each process is tracked so the test can end exactly the processes it started.
 */
export function startAscend(args: string[], env: Record<string, string>, ready: RegExp, home: string): Promise<Proc> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...tempEnv(), HOME: home, ASCEND_HOME: `${home}/ascend`, ...env },
    cwd: home,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => {
    err = (err + d).slice(-20_000);
  });
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      if (ready.test(out)) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve({ child, out, err: () => err });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`ascend ${args[0]} exited (${code ?? signal}) before it was ready: ${err.slice(-2000)}`)),
    );
  });
}

/** Ends a process this test started (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
export async function stop(p: Proc | undefined, graceMs = 5000): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
