import { AscendError } from '../../core/errors.js';
import type { Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new AscendError('USAGE', `${name} ${v} is not a non-negative number`);
  return n;
}

/** `ascend simulator start`: runs until SIGINT/SIGTERM and prints its URL first. */
export async function run(
  rt: Runtime,
  _args: ArgsOf<'simulatorStart'>,
  opts: OptionsOf<'simulatorStart'>,
): Promise<number> {
  const { createSimulator, writeKeyFile } = await import('../../../simulator/index.js');
  let sim: Awaited<ReturnType<typeof createSimulator>>;
  try {
    sim = createSimulator({
      port: num(opts.port, '--port'),
      host: opts.host,
      publicUrl: opts.publicUrl,
      seed: opts.seed,
      stateFile: opts.stateFile,
      processingSeconds: num(opts.processingSeconds, '--processing-seconds'),
      latencyMs: num(opts.latency, '--latency'),
      bandwidthMBps: num(opts.bandwidth, '--bandwidth'),
      connectionBandwidthMBps: num(opts.connectionBandwidth, '--connection-bandwidth'),
      rateLimitPerHour: num(opts.rateLimit, '--rate-limit'),
      faults: opts.faults,
      faultSeed: num(opts.faultSeed, '--fault-seed'),
      webhookFaults: opts.webhookFaults,
      refuseChecksums: opts.refuseChecksums === true,
      simNow: opts.clock,
      log: rt.config.verbose ? (l) => rt.out.logger.debug(l) : undefined,
    });
  } catch (err) {
    if (err instanceof AscendError) throw err;
    throw new AscendError(
      'SIMULATOR_SEED_INVALID',
      `the simulator cannot start: ${(err as Error).message.split('\n')[0]}`,
      { cause: err },
    );
  }
  const url = await sim.listen();
  if (opts.writeKey) {
    const key = sim.createKey({ role: 'APP_MANAGER' });
    writeKeyFile(opts.writeKey, key);
    rt.out.note(`wrote an App Manager key (Key ID ${key.keyId}) to ${opts.writeKey}`);
  }
  // Always the bare URL on its own line: a long-running server, read by scripts with `head -1`.
  rt.out.print(url);
  rt.out.note('simulated App Store Connect running; press Ctrl-C to stop');
  // Ctrl-C or SIGTERM abort rt.signal: for a server that is the normal way to stop, so it exits 0.
  await new Promise<void>((resolve) => {
    if (rt.signal.aborted) resolve();
    else rt.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await sim.close();
  return 0;
}
