import { createHash } from 'node:crypto';
import { base32, type RandomBytes } from '../store/ids.js';

/**
 * Bearer secrets (session cookies, API tokens, sign-in links): 256 random bits, recognisable by prefix (so
 * secret scanners and our own redaction can spot them), stored only as SHA-256. A plain hash suffices for
 * high-entropy tokens; passwords get scrypt instead.
 */
/** asc_ API token, ascs_ session, ascl_ sign-in link, ascw_ worker token. */
export type TokenPrefix = 'asc_' | 'ascs_' | 'ascl_' | 'ascw_';

export function newSecretToken(prefix: TokenPrefix, randomBytes: RandomBytes): string {
  return prefix + base32(randomBytes(32));
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Shape check before any lookup, so hostile input of any size costs nothing. */
export function looksLikeToken(token: string, prefix: TokenPrefix): boolean {
  return (
    token.length === prefix.length + 52 && token.startsWith(prefix) && /^[a-z2-7]+$/.test(token.slice(prefix.length))
  );
}
