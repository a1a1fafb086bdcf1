import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { JsonFileStateStore } from '../core/state.js';
import { httpTransport, type PartTransport } from '../upload/engine.js';
import { createProgress } from './progress.js';
import type { Runtime } from './runtime.js';

export type Progress = ReturnType<typeof createProgress>;

/** Progress output as the runtime's terminal and flags ask for it. */
export function progressFor(rt: Runtime): Progress {
  return createProgress({
    io: rt.io,
    tty: rt.config.stderrIsTTY,
    json: rt.config.json,
    quiet: rt.config.quiet,
    now: () => systemClock.now(),
  });
}

export interface TransferSession {
  transport: PartTransport;
  signal: AbortSignal;
  state: JsonFileStateStore;
}

/**
 * What the commands that upload share: a part transport sized to the concurrency, the resumable state under
 * $ASCEND_HOME/state, and Ctrl-C (the runtime's signal) turned into a clean stop that the next run resumes from.
 */
export async function withTransfer<T>(
  rt: Runtime,
  concurrency: number,
  run: (s: TransferSession) => Promise<T>,
): Promise<T> {
  const transport = await httpTransport(concurrency);
  try {
    // Ctrl-C and SIGTERM abort rt.signal with INTERRUPTED (exit 130); the engine saves its state on the way out.
    return await run({ transport, signal: rt.signal, state: new JsonFileStateStore(join(rt.config.home, 'state')) });
  } finally {
    await transport.close();
  }
}
