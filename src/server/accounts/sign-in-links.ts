import { AscendError } from '../../core/errors.js';
import { isoTime, newId, type StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import { hashToken, looksLikeToken, newSecretToken } from './secret-tokens.js';

/** Long enough to click the "Sign in:" line `npm start` prints, short enough that a stale scrollback is useless. */
export const SIGN_IN_LINK_TTL_MS = 15 * 60 * 1000;

export async function createSignInLink(
  store: Store,
  deps: StoreDeps,
  userId: string,
  ttlMs = SIGN_IN_LINK_TTL_MS,
): Promise<{ token: string; expiresAt: string }> {
  const token = newSecretToken('ascl_', deps.randomBytes);
  const now = deps.clock.now();
  const expiresAt = isoTime(now + ttlMs);
  await store.db
    .insertInto('sign_in_links')
    .values({
      id: newId('lnk', deps.randomBytes),
      token_hash: hashToken(token),
      user_id: userId,
      created_at: isoTime(now),
      expires_at: expiresAt,
      used_at: null,
    })
    .execute();
  return { token, expiresAt };
}

/**
 * Spends a link: one conditional UPDATE marks it used only if it is unused and unexpired, so two clicks racing
 * (or two servers) cannot both sign in.
 */
export async function consumeSignInLink(store: Store, deps: StoreDeps, token: string): Promise<string> {
  const invalid = () =>
    new AscendError('SIGN_IN_LINK_INVALID', 'the sign-in link is not valid (used already, expired or unknown)');
  if (!looksLikeToken(token, 'ascl_')) throw invalid();
  const now = isoTime(deps.clock.now());
  const row = await store.db
    .updateTable('sign_in_links')
    .set({ used_at: now })
    .where('token_hash', '=', hashToken(token))
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('user_id')
    .executeTakeFirst();
  if (!row) throw invalid();
  return row.user_id;
}
