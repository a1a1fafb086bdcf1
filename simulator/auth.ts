import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { notAuthorized } from './errors.js';

/** A key the simulated App Store Connect knows (the public half, as Apple keeps it). */
export interface SimKey {
  keyId: string;
  /** Undefined for an individual key. */
  issuerId: string | undefined;
  teamId: string;
  role: string;
  publicKeyPem: string;
  revoked: boolean;
}

export interface AuthContext {
  key: SimKey;
  /** The token's `scope` claim, checked against each request (simulator/scope.ts); undefined when absent. */
  scope: unknown;
}

export const MAX_LIFETIME_S = 1200;
/** Tolerance for a client clock slightly ahead of ours (`iat` in the future). */
export const CLOCK_SKEW_S = 60;

export interface JwtCheckOptions {
  nowS: number;
  findKey: (kid: string) => SimKey | undefined;
  /** Why a token was refused, for the simulator's log (Apple's body never says). */
  onReject?: (reason: string) => void;
}

const keyCache = new WeakMap<SimKey, KeyObject>();

/**
 * Checks a bearer token the way App Store Connect does: ES256 with a raw r‖s signature (a DER signature
 * fails), a known `kid`, `iss` equal to the key's issuer (or `sub: "user"` and no `iss` for an individual
 * key), `aud` appstoreconnect-v1, `exp − iat` ≤ 1200 s, not expired, not issued in the future. Every
 * failure answers the same 401 NOT_AUTHORIZED body, as Apple does.
 */
export async function authenticate(header: string | undefined, opts: JwtCheckOptions): Promise<AuthContext> {
  const reject = (reason: string) => {
    opts.onReject?.(reason);
    return notAuthorized();
  };
  const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(header?.trim() ?? '');
  if (!m) throw reject('missing or malformed Authorization header');
  const token = m[1]!;
  let kid: string | undefined;
  let alg: string | undefined;
  try {
    ({ kid, alg } = decodeProtectedHeader(token));
  } catch {
    throw reject('undecodable JWT header');
  }
  if (alg !== 'ES256') throw reject(`alg ${alg} is not ES256`);
  if (!kid) throw reject('no kid');
  const key = opts.findKey(kid);
  if (!key) throw reject(`unknown kid ${kid}`);
  if (key.revoked) throw reject(`key ${kid} is revoked`);
  let publicKey = keyCache.get(key);
  if (!publicKey) {
    publicKey = createPublicKey(key.publicKeyPem);
    keyCache.set(key, publicKey);
  }
  let payload: Record<string, unknown>;
  try {
    // Claims are checked by hand below; jose only verifies the signature (raw r‖s, as JWS requires).
    ({ payload } = await jwtVerify(token, publicKey, {
      algorithms: ['ES256'],
      currentDate: new Date(opts.nowS * 1000),
      clockTolerance: 1e9,
    }));
  } catch {
    throw reject('bad signature');
  }
  const { iat, exp, aud, iss, sub, scope } = payload;
  if (typeof exp !== 'number') throw reject('exp missing');
  // Apple documents `iat` as part of the token, yet widely used clients omit it and Apple accepts their tokens
  // (docs/API_NOTES.md); without it only "expires within 20 minutes" can be checked.
  if (iat !== undefined && typeof iat !== 'number') throw reject('iat is not a number');
  if (typeof iat === 'number' && exp - iat > MAX_LIFETIME_S)
    throw reject(`lifetime ${exp - iat}s exceeds ${MAX_LIFETIME_S}s`);
  if (exp <= opts.nowS) throw reject('expired');
  if (typeof iat === 'number' && iat > opts.nowS + CLOCK_SKEW_S) throw reject('issued in the future');
  if (exp > opts.nowS + MAX_LIFETIME_S + CLOCK_SKEW_S) throw reject('expires more than 20 minutes ahead');
  const audOk =
    aud === 'appstoreconnect-v1' || (Array.isArray(aud) && aud.length === 1 && aud[0] === 'appstoreconnect-v1');
  if (!audOk) throw reject(`aud ${JSON.stringify(aud)}`);
  if (key.issuerId === undefined) {
    if (sub !== 'user' || iss !== undefined) throw reject('individual key needs sub "user" and no iss');
  } else if (iss !== key.issuerId) {
    throw reject('iss does not match the key');
  }
  return { key, scope };
}
