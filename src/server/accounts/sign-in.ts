import { timingSafeEqual } from 'node:crypto';
import { AscendError } from '../../core/errors.js';
import type { StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import type { LoginLimiter } from './login-limiter.js';
import { DEFAULT_SCRYPT, hashPassword, needsRehash, type ScryptParams, verifyPassword } from './passwords.js';
import { createSession, type Session } from './sessions.js';
import { findUserByEmail, setPasswordHash, type User } from './teams.js';

export interface SignInRequest {
  email: string;
  password: string;
  ip: string;
  userAgent?: string | null;
}

/** A hash to check against when the account does not exist, so both answers take the same time. */
const dummyHashes = new WeakMap<ScryptParams, Promise<string>>();
function dummyHash(params: ScryptParams): Promise<string> {
  let h = dummyHashes.get(params);
  if (!h) {
    h = hashPassword('not-a-real-password-0000', params);
    dummyHashes.set(params, h);
  }
  return h;
}

/**
 * Password sign-in: throttled per account and per address before any work, one answer for "no such user",
 * "wrong password" and "disabled", and a session on success. Hashes made with weaker parameters are
 * upgraded on the way.
 */
export async function signInWithPassword(
  store: Store,
  deps: StoreDeps,
  limiter: LoginLimiter,
  req: SignInRequest,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<{ token: string; session: Session; user: User }> {
  const email = req.email.trim().toLowerCase().slice(0, 254);
  limiter.check(email, req.ip);
  const user = await findUserByEmail(store, email);
  const stored = user?.passwordHash ?? (await dummyHash(params));
  const ok =
    (await verifyPassword(req.password, stored)) && user !== undefined && !user.disabled && !!user.passwordHash;
  if (!ok || !user) {
    limiter.recordFailure(email, req.ip);
    throw new AscendError('SIGN_IN_FAILED', 'the e-mail address or password is wrong');
  }
  limiter.recordSuccess(email);
  if (needsRehash(stored, params)) await setPasswordHash(store, user.id, await hashPassword(req.password, params));
  const { token, session } = await createSession(store, deps, user.id, {
    ip: req.ip,
    userAgent: req.userAgent ?? null,
  });
  const { passwordHash: _omit, ...publicUser } = user;
  return { token, session, user: publicUser };
}

/** The CSRF token sent with a write must equal the session's; compared in constant time. */
export function csrfMatches(session: Session, provided: string | undefined): boolean {
  if (!provided) return false;
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(provided);
  return a.length === b.length && timingSafeEqual(a, b);
}
