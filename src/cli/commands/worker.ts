import { realSleep, systemClock } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import type { Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

function int(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new AscendError('USAGE', `${name} ${v} is not a whole number from ${min} to ${max}`);
  return n;
}

function url(v: string, name: string, schemes: RegExp, kind: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new AscendError('USAGE', `${name} is not a valid URL`, { remedy: `Give ${name} with its scheme and host.` });
  }
  if (!schemes.test(u.protocol)) throw new AscendError('USAGE', `${name} must be a ${kind} URL`);
  return v.replace(/\/+$/, '');
}

/** A flag's value, or with `@env:VAR` the variable's: secrets stay out of `ps`. */
function fromEnv(value: string, flag: string, env: Readonly<Record<string, string | undefined>>): string {
  const v = value.startsWith('@env:') ? env[value.slice(5)]?.trim() : value.trim();
  if (!v) throw new AscendError('USAGE', `${flag} ${value.slice(0, 80)}: the variable is not set`);
  return v;
}

function tokenOf(value: string, env: Readonly<Record<string, string | undefined>>): string {
  const v = fromEnv(value, '--token', env);
  if (!v.startsWith('ascw_'))
    throw new AscendError('WORKER_TOKEN_INVALID', '--token is not a worker token (they start with ascw_)');
  return v;
}

/** Labels: lower-case words of letters, digits, dot and dash, at most 6 (builds are routed by every subset). */
function labelsOf(v: string): string[] {
  const labels = v
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  const bad = labels.find((l) => !/^[a-z0-9][a-z0-9.-]{0,39}$/.test(l));
  if (bad !== undefined || labels.length > 6)
    throw new AscendError('USAGE', `--labels ${v.slice(0, 80)}: labels are up to 6 words of a-z, 0-9, dot and dash`);
  return labels;
}

/**
 * `ascend worker` (DESIGN §3.1): works deploy and build jobs of a server on this machine. Prints one line once it is
 * connected; Ctrl-C or SIGTERM stops taking jobs and lets running steps reach a safe point, so their jobs are
 * released with their state saved and another worker continues them.
 */
export async function run(rt: Runtime, _args: ArgsOf<'worker'>, opts: OptionsOf<'worker'>): Promise<number> {
  // `@env:VAR` keeps the database password (more power than the token) out of the process list.
  const databaseUrl = url(
    fromEnv(opts.databaseUrl, '--database-url', rt.config.env),
    '--database-url',
    /^postgres(ql)?:$/,
    'postgres://',
  );
  const server = url(opts.server, '--server', /^https?:$/, 'http:// or https://');
  const token = tokenOf(opts.token, rt.config.env);
  const labels = labelsOf(opts.labels);
  const concurrency = int(opts.concurrency, '--concurrency', 1, 64);
  const leaseMs = int(opts.leaseSeconds, '--lease-seconds', 2, 3600) * 1000;
  const { startRemoteWorker } = await import('../../server/worker/remote-worker.js');
  const { buildBaseEnv } = await import('../../server/worker/build-spec.js');
  let fatal: AscendError | undefined;
  const stopped = new AbortController();
  const worker = await startRemoteWorker({
    databaseUrl,
    server,
    token,
    labels,
    concurrency,
    apiUrl: rt.config.apiUrl,
    leaseMs,
    pollMs: Math.min(500, Math.floor(leaseMs / 4)),
    clock: systemClock,
    sleep: realSleep,
    random: Math.random,
    extraTrustedRoots: rt.config.extraTrustedRoots,
    // Builds start from a few of this process's variables only: never the worker's token or database URL.
    buildEnv: buildBaseEnv(rt.config.env),
    ...(opts.buildDir ? { buildDir: opts.buildDir } : {}),
    onFatal: (err) => {
      fatal = err;
      stopped.abort();
    },
  });
  try {
    rt.out.print(
      `ascend worker: ${worker.name} ready for ${server} (${concurrency} at a time${labels.length ? `, labels ${labels.join(',')}` : ''})`,
    );
    const until = AbortSignal.any([rt.signal, stopped.signal]);
    await new Promise<void>((done) => {
      if (until.aborted) done();
      else until.addEventListener('abort', () => done(), { once: true });
    });
    // A revoked token ends the worker with the error's one line and exit code, not a silent idle process.
    if (fatal) throw fatal;
    return 0;
  } finally {
    await worker.stop({ timeoutMs: 4000 });
  }
}
