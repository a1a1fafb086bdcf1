import { AscendError } from '../../core/errors.js';
import { isoTime, newId, type StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import { hashToken, looksLikeToken, newSecretToken } from './secret-tokens.js';
import { getUser, type User } from './teams.js';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface Session {
  id: string;
  userId: string;
  csrfToken: string;
  expiresAt: string;
}

/** The cookie's token is returned once, here; only its hash is stored. */
export async function createSession(
  store: Store,
  deps: StoreDeps,
  userId: string,
  meta: { ip?: string | null; userAgent?: string | null; ttlMs?: number } = {},
): Promise<{ token: string; session: Session }> {
  const token = newSecretToken('ascs_', deps.randomBytes);
  const now = deps.clock.now();
  const session: Session = {
    id: newId('ses', deps.randomBytes),
    userId,
    csrfToken: deps.randomBytes(24).toString('base64url'),
    expiresAt: isoTime(now + (meta.ttlMs ?? SESSION_TTL_MS)),
  };
  await store.db
    .insertInto('sessions')
    .values({
      id: session.id,
      token_hash: hashToken(token),
      user_id: userId,
      csrf_token: session.csrfToken,
      created_at: isoTime(now),
      expires_at: session.expiresAt,
      revoked_at: null,
      ip: meta.ip?.slice(0, 64) ?? null,
      user_agent: meta.userAgent?.slice(0, 256) ?? null,
    })
    .execute();
  return { token, session };
}

/** The session and its user, or SESSION_INVALID for an unknown, expired or revoked token or a disabled user. */
export async function resolveSession(
  store: Store,
  deps: StoreDeps,
  token: string,
): Promise<{ session: Session; user: User }> {
  const invalid = () => new AscendError('SESSION_INVALID', 'the session is not valid (expired or signed out)');
  if (!looksLikeToken(token, 'ascs_')) throw invalid();
  const row = await store.db
    .selectFrom('sessions')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row || row.revoked_at !== null || row.expires_at <= isoTime(deps.clock.now())) throw invalid();
  const user = await getUser(store, row.user_id);
  if (!user || user.disabled) throw invalid();
  return {
    session: { id: row.id, userId: row.user_id, csrfToken: row.csrf_token, expiresAt: row.expires_at },
    user,
  };
}

export async function revokeSession(store: Store, deps: StoreDeps, token: string): Promise<void> {
  await store.db
    .updateTable('sessions')
    .set({ revoked_at: isoTime(deps.clock.now()) })
    .where('token_hash', '=', hashToken(token))
    .where('revoked_at', 'is', null)
    .execute();
}

/** Signs a user out everywhere (password change, removal); answers how many live sessions ended. */
export async function revokeUserSessions(store: Store, deps: StoreDeps, userId: string): Promise<number> {
  const now = isoTime(deps.clock.now());
  const res = await store.db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
