import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as pause } from 'node:timers/promises';
import type { Clock, Sleep } from '../../core/clock.js';
import { REDACTED, redact } from '../../core/redact.js';
import { findArtifact } from './build-glob.js';
import { groupAlive, signalGroup } from './process-group.js';

/** What one build runs (validated by the API, build-spec.ts). */
export interface BuildCommand {
  /** Run as given, without a shell; a string is run by `/bin/sh -c` (documented in docs/SERVER.md). */
  command: string | readonly string[];
  /** Relative folder inside the fresh working folder, created if missing. */
  workdir?: string | undefined;
  /** Secret environment variables: given to the command, never shown in its output. */
  env: Readonly<Record<string, string>>;
  /** Glob of the one file the build makes, relative to the working folder. */
  artifact: string;
  timeoutMs: number;
}

export interface BuildRunnerDeps {
  clock: Clock;
  /** Waits for the timeout and the grace between SIGTERM and SIGKILL (injected so tests decide when). */
  sleep: Sleep;
  /** Where fresh working folders are made. */
  tempRoot: string;
  /** The environment every build starts from (PATH, HOME, LANG…), read once at the edge; never the server's own. */
  baseEnv: Readonly<Record<string, string>>;
  /** Receives output lines in batches (already redacted); awaited, so a slow receiver slows the reading. */
  onLines: (lines: string[]) => Promise<void>;
  /** Cancels the build: its whole process group is stopped. */
  signal?: AbortSignal;
  graceMs?: number;
  maxLineChars?: number;
  /** Lines per onLines call at most. */
  batchLines?: number;
  /** Lines kept for the failure's detail. */
  tailLines?: number;
}

export type BuildOutcome = 'succeeded' | 'failed' | 'timed-out' | 'cancelled';

export interface BuildResult<T> {
  outcome: BuildOutcome;
  exitCode: number | null;
  /** The signal that ended the command, if one did. */
  exitSignal: string | null;
  /** Why it failed to start (e.g. "spawn xcodebuild ENOENT"), if it did. */
  startError?: string;
  lines: number;
  durationMs: number;
  /** The last lines of output, redacted. */
  tail: string[];
  /** What `keep` returned for the artifact, when the build succeeded. */
  artifact?: T;
}

/** Secrets shorter than this are not searched for in output: one or two characters would blank every line. */
const MIN_SECRET_CHARS = 4;

/** Output lines: redacted (secret values, then ascend's patterns), cut at `maxChars`, control characters shown as '?'. */
export interface LineCleaner {
  (line: string): string;
  /**
   * How much of an unfinished line to keep before cutting it: `maxChars` plus the longest secret (at least
   * `maxChars` more, so ascend's patterns, a JWT or a signed URL, also fit whole). A secret that begins before
   * the visible cut then ends inside what is kept, so it is replaced before anything is cut.
   */
  keepChars: number;
}

export function lineCleaner(env: Readonly<Record<string, string>>, maxChars: number): LineCleaner {
  // Output is redacted line by line, so a value of several lines (a PEM, a JSON key file) is also searched for
  // line by line.
  const secrets = [...new Set(Object.values(env).flatMap((v) => [v, ...v.split(/\r?\n/).map((l) => l.trim())]))]
    .filter((v) => v.length >= MIN_SECRET_CHARS)
    .sort((a, b) => b.length - a.length);
  const longest = secrets[0]?.length ?? 0;
  const keepChars = maxChars + Math.max(longest, maxChars);
  const clean = ((line: string) => {
    // Cut before redacting only past `keepChars`: a secret straddling an earlier cut would no longer match.
    let cut = line.length > keepChars;
    let out = cut ? line.slice(0, keepChars) : line.endsWith('\r') ? line.slice(0, -1) : line;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    out = redact(out);
    if (out.length > maxChars) cut = true;
    if (cut) out = maskSecretStart(out.slice(0, maxChars), secrets);
    out = out.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?');
    return cut ? `${out}… [line cut]` : out;
  }) as LineCleaner;
  clean.keepChars = keepChars;
  return clean;
}

/**
 * A cut line ends where the cut fell, which may be inside a secret that was never whole in the kept text (it
 * ran past the first cut, and earlier redactions shortened the line so it came into view): its start is
 * masked, so no cut shows the beginning of a secret.
 */
function maskSecretStart(text: string, secrets: readonly string[]): string {
  let from = text.length;
  for (const s of secrets) {
    const lowest = Math.max(text.length - s.length, 0);
    for (let i = lowest; i < from; i++) {
      if (text.charCodeAt(i) === s.charCodeAt(0) && s.startsWith(text.slice(i))) {
        from = i;
        break;
      }
    }
  }
  return from < text.length ? text.slice(0, from) + REDACTED : text;
}

/**
 * Splits a stream into lines with a bounded buffer: a line longer than `keepChars` is cut (one character more
 * is handed over, so the cleaner knows it was cut) and the rest of it skipped up to the next newline, so a
 * build that prints one endless line, or progress redrawn with '\r' and no newline, cannot exhaust memory.
 */
function splitLines(stream: Readable, keepChars: number, onLine: (line: string) => void): Promise<void> {
  stream.setEncoding('utf8');
  let partial = '';
  let skipping = false;
  stream.on('data', (chunk: string) => {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      if (!skipping) onLine(partial + chunk.slice(start, nl));
      partial = '';
      skipping = false;
      start = nl + 1;
    }
    if (skipping) return;
    partial += chunk.slice(start);
    if (partial.length > keepChars) {
      onLine(partial.slice(0, keepChars + 1));
      partial = '';
      skipping = true;
    }
  });
  return new Promise((resolve) => {
    stream.on('close', () => {
      if (partial && !skipping) onLine(partial);
      resolve();
    });
  });
}

/** Batches lines to the receiver, one call in flight; reading pauses while too many lines wait. */
export function lineBatcher(deps: Pick<BuildRunnerDeps, 'onLines' | 'batchLines'>, streams: Readable[]) {
  const batch = deps.batchLines ?? 1000;
  const high = batch * 5;
  let waiting: string[] = [];
  let flying: Promise<void> | null = null;
  let failed: unknown = null;
  const pump = () => {
    if (flying || waiting.length === 0) return;
    const lines = waiting.slice(0, batch);
    waiting = waiting.slice(lines.length);
    flying = deps
      .onLines(lines)
      .catch((err) => {
        failed ??= err;
      })
      .finally(() => {
        flying = null;
        if (waiting.length < high) for (const s of streams) s.resume();
        pump();
      });
  };
  return {
    push(line: string) {
      waiting.push(line);
      if (waiting.length >= high) for (const s of streams) s.pause();
      pump();
    },
    async drain() {
      while (flying || waiting.length > 0) {
        pump();
        await flying;
      }
      if (failed) throw failed;
    },
  };
}

/** Spawns the command in its own process group (detached), in `cwd`, with only the given environment. */
function start(cmd: BuildCommand, cwd: string, env: Record<string, string>): ChildProcess {
  const [file, args] =
    typeof cmd.command === 'string' ? ['/bin/sh', ['-c', cmd.command]] : [cmd.command[0]!, cmd.command.slice(1)];
  return spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Runs one build step (docs/SERVER.md, "Build steps"): a fresh working folder, the command in its own process
 * group with output streamed line by line, the timeout (SIGTERM to the group, SIGKILL after a grace), the
 * deploy's cancel, and on success the one file the artifact glob matches handed to `keep` before the folder
 * is removed. Whatever the outcome, nothing of the group is left running when it returns.
 */
export async function runBuild<T>(
  cmd: BuildCommand,
  deps: BuildRunnerDeps,
  keep: (file: string) => Promise<T>,
): Promise<BuildResult<T>> {
  const started = deps.clock.now();
  const graceMs = deps.graceMs ?? 10_000;
  const maxChars = deps.maxLineChars ?? 4096;
  const tailSize = deps.tailLines ?? 30;
  await mkdir(deps.tempRoot, { recursive: true, mode: 0o700 });
  const folder = await mkdtemp(join(deps.tempRoot, 'build-'));
  const done = new AbortController();
  try {
    const cwd = resolve(folder, cmd.workdir ?? '.');
    if (relative(folder, cwd).startsWith('..')) throw new Error('the build workdir leaves its folder'); // the API refuses it first
    await mkdir(cwd, { recursive: true });
    const env = { ...deps.baseEnv, ...cmd.env, ASCEND_BUILD_DIR: folder };
    const clean = lineCleaner(cmd.env, maxChars);
    const child = start(cmd, cwd, env);
    const streams = [child.stdout!, child.stderr!];
    const lines = lineBatcher(deps, streams);
    const tail: string[] = [];
    let count = 0;
    const onLine = (raw: string) => {
      const line = clean(raw);
      count++;
      tail.push(line);
      if (tail.length > tailSize) tail.shift();
      lines.push(line);
    };
    const read = Promise.all(streams.map((s) => splitLines(s, clean.keepChars, onLine)));
    const exited = new Promise<{ code: number | null; signal: string | null; error?: string }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (err) => resolve({ code: null, signal: null, error: err.message }));
    });
    let stopping: BuildOutcome | null = null;
    // Once the group is gone its id may be reused by another process: no signal is sent to it after that.
    let over = false;
    const stop = (why: BuildOutcome) => {
      if (stopping || over || child.pid === undefined) return;
      stopping = why;
      signalGroup(child.pid, 'SIGTERM');
      deps.sleep(graceMs, done.signal).then(
        () => over || signalGroup(child.pid!, 'SIGKILL'),
        () => {},
      );
    };
    deps.sleep(cmd.timeoutMs, done.signal).then(
      () => stop('timed-out'),
      () => {},
    );
    const onAbort = () => stop('cancelled');
    if (deps.signal?.aborted) onAbort();
    deps.signal?.addEventListener('abort', onAbort, { once: true });
    const exit = await exited;
    deps.signal?.removeEventListener('abort', onAbort);
    // The command is done; whatever it started (a daemon, a backgrounded child holding the pipes) goes too.
    if (child.pid !== undefined) await killGroup(child.pid);
    over = true;
    await read;
    await lines.drain();
    const outcome: BuildOutcome = stopping ?? (exit.error || exit.code !== 0 ? 'failed' : 'succeeded');
    const result: BuildResult<T> = {
      outcome,
      exitCode: exit.code,
      exitSignal: exit.signal,
      ...(exit.error ? { startError: redact(exit.error) } : {}),
      lines: count,
      durationMs: deps.clock.now() - started,
      tail,
    };
    if (outcome === 'succeeded') result.artifact = await keep(await findArtifact(folder, cmd.artifact));
    result.durationMs = deps.clock.now() - started;
    return result;
  } finally {
    done.abort();
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * SIGKILL to the group, then waits until no member runs: a short real wait for the kernel to finish the
 * kill (bounded at 5 s), not a business delay, so it is not the injected sleep.
 */
async function killGroup(pgid: number): Promise<void> {
  signalGroup(pgid, 'SIGKILL');
  for (let i = 0; i < 250 && (await groupAlive(pgid)); i++) await pause(20);
}
