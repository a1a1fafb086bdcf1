import { appendDeployEvent } from '../store/deploys.js';
import type { StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import type { BuildLogWriter } from './build-log-files.js';

/**
 * A build's output as deploy events: one `log` event per batch the runner hands over (not per line), the
 * first `maxStored` lines live, then only the last `tailLines` kept in memory and written at the end after a
 * line saying how many were left out. 100,000 lines are a few hundred rows, and memory stays bounded.
 */
export function buildLog(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  deployId: string,
  opts: { maxStored?: number; tailLines?: number; file?: BuildLogWriter | undefined } = {},
) {
  const maxStored = opts.maxStored ?? 20_000;
  const tailLines = opts.tailLines ?? 200;
  let stored = 0;
  let skipped = 0;
  const tail: string[] = [];
  const write = (lines: string[]) =>
    appendDeployEvent(store, deps, teamId, deployId, 'log', { step: 'build', text: lines.join('\n') });
  return {
    async onLines(lines: string[]): Promise<void> {
      await opts.file?.append(lines);
      const room = Math.max(maxStored - stored, 0);
      const now = lines.slice(0, room);
      stored += now.length;
      if (now.length) await write(now);
      for (const l of lines.slice(room)) {
        skipped++;
        tail.push(l);
        if (tail.length > tailLines) tail.shift();
      }
    },
    /** Writes the kept tail, if lines were left out. */
    async finish(): Promise<void> {
      await opts.file?.close();
      if (skipped === 0) return;
      const left = skipped - tail.length;
      await write(left > 0 ? [`… ${left} lines not stored …`, ...tail] : tail);
    },
    get stored() {
      return stored;
    },
  };
}
