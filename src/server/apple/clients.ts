import { createHash } from 'node:crypto';
import { type AscClient, createAscClient } from '../../asc/http/client.js';
import { RateLimitTracker, type SharedRateBudget } from '../../asc/http/rate-limit.js';
import type { FetchLike } from '../../asc/http/transport.js';
import { type Clock, realSleep, type Sleep, systemClock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { createTokenProvider } from '../../credentials/token.js';
import type { ApiKey } from '../../credentials/types.js';

export interface AscClientsOptions {
  /** App Store Connect, or the sandbox's simulator. */
  baseUrl: string;
  clock?: Clock;
  sleep?: Sleep;
  fetch?: FetchLike;
  logger?: Logger;
  /** The budget every worker of a key shares (the database's, docs/SERVER.md "Scaling out"), by Apple key id. */
  sharedBudget?: (keyId: string) => SharedRateBudget;
}

/**
 * One App Store Connect client per key for the whole process: every route and worker that uses a key
 * shares its token provider (one JWT reused until near expiry) and its rate budget, so Apple's
 * `X-Rate-Limit` answers seen by one request slow down all of them. Clients are keyed by a hash of the
 * key's identity and private key, never by the key itself.
 */
export class AscClients {
  private readonly clients = new Map<string, AscClient>();

  constructor(private readonly opts: AscClientsOptions) {}

  for(key: ApiKey): AscClient {
    const id = createHash('sha256')
      .update(`${key.keyId}\n${key.issuerId ?? ''}\n${key.privateKeyPem}`)
      .digest('hex');
    let client = this.clients.get(id);
    if (!client) {
      client = createAscClient({
        baseUrl: this.opts.baseUrl,
        tokens: createTokenProvider(key, this.opts.clock ? { clock: this.opts.clock } : {}),
        ...(this.opts.clock ? { clock: this.opts.clock } : {}),
        ...(this.opts.sleep ? { sleep: this.opts.sleep } : {}),
        ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
        ...(this.opts.logger ? { logger: this.opts.logger } : {}),
        ...(this.opts.sharedBudget
          ? {
              rateLimit: new RateLimitTracker(
                this.opts.clock ?? systemClock,
                this.opts.sleep ?? realSleep,
                this.opts.sharedBudget(key.keyId),
              ),
            }
          : {}),
      });
      this.clients.set(id, client);
    }
    return client;
  }

  /** A client made for a key that was never stored (the add-key check) is not kept. */
  forget(key: ApiKey): void {
    const id = createHash('sha256')
      .update(`${key.keyId}\n${key.issuerId ?? ''}\n${key.privateKeyPem}`)
      .digest('hex');
    this.clients.delete(id);
  }
}
