import type { FileHasher } from './hasher.js';
import type { RateLimiter } from './throttle.js';

export interface UploadConfig {
  dataDir: string;
  partSize: number;
  processingMs: number;
  /** How long each review stage takes (beta review, App Review). */
  reviewMs: number;
  uploadExpiryMs: number;
  /** Signs part URLs; kept in the state file so URLs survive a restart. */
  secret: Buffer;
  bandwidth?: RateLimiter;
  connectionBytesPerSecond?: number;
  /** Answer the commit of any `sourceFileChecksums` with the 409 one live report shows (docs/SIMULATOR.md). */
  refuseChecksums: boolean;
  /** Whole-file digests being computed as parts arrive, by file id (in memory only). */
  hashers: Map<string, FileHasher>;
}
