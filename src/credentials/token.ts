import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { type Clock, systemClock } from '../core/clock.js';
import type { ApiKey, TokenProvider } from './types.js';

// https://developer.apple.com/documentation/appstoreconnectapi/generating-tokens-for-api-requests
export const AUDIENCE = 'appstoreconnect-v1';
export const ENTERPRISE_AUDIENCE = 'apple-developer-enterprise-v1';
/** Apple rejects tokens whose exp − iat exceeds 20 minutes. */
export const MAX_LIFETIME_S = 1200;

export interface TokenProviderOptions {
  clock?: Clock;
  /** Seconds `iat` is set in the past, to absorb a client clock that runs slightly ahead of Apple's. */
  backdateS?: number;
  /** Seconds before expiry at which a token is no longer handed out. */
  refreshMarginS?: number;
  /** exp − iat in seconds (default and most: Apple's 20 minutes); a server handing tokens to workers uses less. */
  lifetimeS?: number;
}

export interface CountingTokenProvider extends TokenProvider {
  /** How many tokens this provider has signed; benchmarks and tests read it. */
  readonly minted: number;
}

/**
 * ES256 tokens for one key: one token reused until shortly before it expires (Apple recommends reuse,
 * and minting many fresh tokens is reported to trigger spurious 401s), minted again once on 401.
 */
export function createTokenProvider(key: ApiKey, options: TokenProviderOptions = {}): CountingTokenProvider {
  const clock = options.clock ?? systemClock;
  const backdate = options.backdateS ?? 60;
  const margin = options.refreshMarginS ?? 120;
  const lifetime = Math.min(options.lifetimeS ?? MAX_LIFETIME_S, MAX_LIFETIME_S);
  const signingKey: KeyObject = createPrivateKey(key.privateKeyPem);
  let cached: { jwt: string; exp: number } | undefined;
  let inflight: Promise<string> | undefined;
  let minted = 0;

  async function mint(): Promise<string> {
    const iat = Math.floor(clock.now() / 1000) - backdate;
    const exp = iat + lifetime;
    const payload: Record<string, unknown> = { aud: key.inHouse ? ENTERPRISE_AUDIENCE : AUDIENCE };
    // Individual keys carry no issuer: Apple wants `sub: "user"` and no `iss`.
    if (key.issuerId === undefined) payload.sub = 'user';
    const builder = new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: key.keyId, typ: 'JWT' })
      .setIssuedAt(iat)
      .setExpirationTime(exp);
    if (key.issuerId !== undefined) builder.setIssuer(key.issuerId);
    // jose emits the raw r‖s (IEEE P1363) signature JWS requires; DER signatures fail at Apple.
    const jwt = await builder.sign(signingKey);
    minted++;
    cached = { jwt, exp };
    return jwt;
  }

  return {
    get minted() {
      return minted;
    },
    async token() {
      const nowS = clock.now() / 1000;
      if (cached && cached.exp - margin > nowS) return cached.jwt;
      inflight ??= mint().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
    invalidate(token) {
      if (cached?.jwt === token) cached = undefined;
    },
  };
}
