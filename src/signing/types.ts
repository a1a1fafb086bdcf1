import type { AscClient } from '../asc/http/client.js';
import type { Clock } from '../core/clock.js';
import type { SigningKeys } from './key-store.js';

/** What the signing steps share; the clock decides "expiring", so tests run on the simulator's time. */
export interface SigningContext {
  client: AscClient;
  keys: SigningKeys;
  clock: Clock;
  bundleIdentifier: string;
  /** Certificates and profiles expiring within this many days are replaced. */
  renewWithinDays: number;
  /** Called for every change made at Apple, in order. */
  onWrite: (what: string) => void;
  onWarning: (what: string) => void;
}
