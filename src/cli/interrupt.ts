import { AscendError } from '../core/errors.js';

/** How long work may take to stop cleanly (save its state) after Ctrl-C before it is abandoned. */
export const STOP_GRACE_MS = 5000;

export interface Interrupt {
  /** Aborted, with an INTERRUPTED error as its reason, on SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * Turns the first SIGINT (Ctrl-C) or SIGTERM into an INTERRUPTED error that running work sees through
 * `signal`. Both exit 130: one code for "stopped from outside, state saved", as DESIGN §3.3 lists it. A
 * second Ctrl-C is not caught, so it ends the process at once.
 */
export function onInterrupt(listen: boolean): Interrupt {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    dispose();
    controller.abort(
      new AscendError(
        'INTERRUPTED',
        `interrupted by ${sig === 'SIGINT' ? 'Ctrl-C (SIGINT)' : sig}; what was done so far is saved`,
      ),
    );
  };
  const dispose = () => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  };
  if (listen) {
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  }
  return { signal: controller.signal, dispose };
}

/**
 * Waits for `work`; once `signal` aborts, waits at most `graceMs` more for it to stop on its own (an
 * upload saves its state), then rejects with the interruption.
 */
export function untilInterrupted<T>(work: Promise<T>, signal: AbortSignal, graceMs = STOP_GRACE_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(signal.reason), graceMs);
      timer.unref();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        // Work that stopped because of the interruption may fail with its own error; report the interruption.
        reject(signal.aborted && !(err instanceof AscendError && err.code === 'INTERRUPTED') ? signal.reason : err);
      },
    );
  });
}
