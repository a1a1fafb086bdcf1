import { posix } from 'node:path';
import { z } from 'zod';
import { AscendError } from '../../core/errors.js';
import { checkArtifactGlob } from './build-glob.js';

/**
 * A worker subscribes to one job kind per subset of its labels (2^n kinds), so labels are bounded: six give
 * 64 kinds, which every JobQueue (the jobs table's `kind in (…)`, pg-boss's per-queue workers) takes in stride.
 */
export const MAX_LABELS = 6;
const LABEL = /^[a-z0-9][a-z0-9._-]{0,31}$/;
/** Environment names a build may set: POSIX-style, and none that changes how programs are loaded or found. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const RESERVED_ENV = /^(PATH|HOME|ASCEND_BUILD_DIR|NODE_OPTIONS|LD_.*|DYLD_.*)$/;

/** A workdir is relative and stays inside the fresh folder once normalised. */
const confined = (p: string) => {
  const n = posix.normalize(p);
  return !p.startsWith('/') && !p.includes('\\') && n !== '..' && !n.startsWith('../');
};
const globOk = (g: string) => {
  try {
    checkArtifactGlob(g);
    return true;
  } catch {
    return false;
  }
};

/** `build` of POST /api/v1/deploys (docs/SERVER.md, "Build steps"). Messages never quote a value: env values are secrets. */
export const BuildBody = z
  .object({
    command: z.union([z.string().min(1).max(8192), z.array(z.string().min(1).max(4096)).min(1).max(256)]),
    workdir: z.string().min(1).max(256).refine(confined, 'must be a relative folder without ".."').optional(),
    env: z
      .record(
        z
          .string()
          .regex(ENV_NAME, 'names are letters, digits and _')
          .refine((n) => !RESERVED_ENV.test(n), 'this name is reserved'),
        z.string().max(32_768),
      )
      .refine((e) => Object.keys(e).length <= 64, 'at most 64 variables')
      .optional(),
    labels: z
      .array(z.string().regex(LABEL, 'labels are lower-case letters, digits, ".", "_" and "-"'))
      .max(MAX_LABELS)
      .optional(),
    artifact: z.string().min(1).max(256).refine(globOk, 'must be a relative glob without ".." (e.g. "build/*.ipa")'),
    /** Seconds: 1 s to 6 h. */
    timeout: z.number().int().min(1).max(21_600),
  })
  .strict();
export type BuildBodyInput = z.infer<typeof BuildBody>;

/** What the deploy row keeps of a build: everything but the env values, which are in the vault. */
export interface StoredBuild {
  command: string | string[];
  workdir?: string;
  labels: string[];
  artifact: string;
  timeoutMs: number;
  envNames: string[];
}

export function storedBuildOf(b: BuildBodyInput): StoredBuild {
  return {
    command: b.command,
    ...(b.workdir ? { workdir: b.workdir } : {}),
    labels: normalLabels(b.labels ?? []),
    artifact: b.artifact,
    timeoutMs: b.timeout * 1000,
    envNames: Object.keys(b.env ?? {}).sort(),
  };
}

const normalLabels = (labels: readonly string[]) => [...new Set(labels)].sort();

/** The queue kind of a build needing these labels: `build:` and the sorted labels joined by `+`. */
export function buildJobKind(labels: readonly string[]): string {
  return `build:${normalLabels(labels).join('+')}`;
}

/** Every kind a worker with these labels runs: one per subset, the empty one (no label needed) included. */
export function workerBuildKinds(labels: readonly string[]): string[] {
  const own = normalLabels(labels);
  const bad = own.find((l) => !LABEL.test(l));
  if (bad !== undefined)
    throw new AscendError('USAGE', `the worker label ${JSON.stringify(bad.slice(0, 40))} is not valid`, {
      remedy: 'Use lower-case letters, digits, ".", "_" and "-", e.g. --labels macos,xcode16.',
    });
  if (own.length > MAX_LABELS)
    throw new AscendError('USAGE', `a worker takes at most ${MAX_LABELS} labels, not ${own.length}`, {
      remedy: `Give the worker the ${MAX_LABELS} labels builds ask for.`,
    });
  const kinds: string[] = [];
  for (let mask = 0; mask < 1 << own.length; mask++) kinds.push(buildJobKind(own.filter((_, i) => mask & (1 << i))));
  return kinds;
}

/** The in-process worker's own labels: its platform as builds name it, then any given on the command line. */
export function defaultWorkerLabels(platform: NodeJS.Platform, extra: readonly string[] = []): string[] {
  const os = platform === 'darwin' ? 'macos' : platform === 'win32' ? 'windows' : platform;
  return normalLabels([os, ...extra.map((l) => l.trim().toLowerCase()).filter(Boolean)]);
}

/** The deploy's status line while no worker has taken its build. */
export function waitingDetail(labels: readonly string[]): string {
  return labels.length ? `waiting for a worker with labels ${labels.join(', ')}` : 'waiting for a worker';
}

/** Variables a build inherits from the server's environment; everything else (ASCEND_MASTER_KEY…) stays out. */
const INHERITED = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'TZ'];

/** The environment every build starts from, picked from the server's at start. */
export function buildBaseEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of INHERITED) {
    const v = env[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}
