import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import type { StoreDeps } from '../store/ids.js';
import { describeStores } from '../store/testing/dialects.js';
import {
  createApiToken,
  LAST_USED_RESOLUTION_MS,
  listApiTokens,
  revokeApiToken,
  verifyApiToken,
} from './api-tokens.js';
import { LoginLimiter } from './login-limiter.js';
import { hashPassword } from './passwords.js';
import { hashToken } from './secret-tokens.js';
import { createSession, resolveSession, revokeSession, revokeUserSessions, SESSION_TTL_MS } from './sessions.js';
import { csrfMatches, signInWithPassword } from './sign-in.js';
import { consumeSignInLink, createSignInLink, SIGN_IN_LINK_TTL_MS } from './sign-in-links.js';
import {
  createTeam,
  createUser,
  membersOf,
  removeMembership,
  roleAtLeast,
  roleIn,
  setMembership,
  teamsOf,
} from './teams.js';

const FAST = { N: 2 ** 10, r: 8, p: 1 };
function deps(): StoreDeps & { clock: FakeClock } {
  return { clock: new FakeClock(), randomBytes: (n) => randomBytes(n) };
}
let seq = 0;
const email = () => `person${seq++}@example.com`;

describeStores('accounts', (ctx) => {
  it('teams, users and roles; another team’s membership is not found', async () => {
    const d = deps();
    const s = ctx.store();
    const [a, b] = [await createTeam(s, d, 'A'), await createTeam(s, d, 'B')];
    const addr = email();
    const u = await createUser(s, d, { email: ` ${addr.toUpperCase()} `, name: 'Ann' });
    expect(u.email).toBe(addr);
    await expect(createUser(s, d, { email: addr, name: 'Again' })).rejects.toMatchObject({ code: 'RESOURCE_EXISTS' });
    await setMembership(s, d, { teamId: a.id, userId: u.id, role: 'releaser' });
    expect(await roleIn(s, a.id, u.id)).toBe('releaser');
    expect(await roleIn(s, b.id, u.id)).toBeUndefined();
    await setMembership(s, d, { teamId: a.id, userId: u.id, role: 'admin' });
    expect((await teamsOf(s, u.id)).map((t) => [t.id, t.role])).toEqual([[a.id, 'admin']]);
    expect((await membersOf(s, a.id)).map((m) => m.id)).toEqual([u.id]);
    await expect(setMembership(s, d, { teamId: a.id, userId: u.id, role: 'god' as never })).rejects.toMatchObject({
      code: 'USAGE',
    });
    expect(roleAtLeast('admin', 'releaser')).toBe(true);
    expect(roleAtLeast('viewer', 'releaser')).toBe(false);
    expect(await removeMembership(s, b.id, u.id)).toBe(false);
    expect(await removeMembership(s, a.id, u.id)).toBe(true);
  });

  it('sessions: token stored hashed, CSRF checked, expiry, revocation', async () => {
    const d = deps();
    const s = ctx.store();
    const u = await createUser(s, d, { email: email(), name: 'S' });
    const { token, session } = await createSession(s, d, u.id, { ip: '127.0.0.1', userAgent: 'test' });
    const stored = await s.db.selectFrom('sessions').selectAll().where('id', '=', session.id).executeTakeFirstOrThrow();
    expect(stored.token_hash).toBe(hashToken(token));
    expect(JSON.stringify(stored)).not.toContain(token);
    expect((await resolveSession(s, d, token)).user.id).toBe(u.id);
    expect(csrfMatches(session, session.csrfToken)).toBe(true);
    expect(csrfMatches(session, `${session.csrfToken.slice(0, -1)}x`)).toBe(false);
    expect(csrfMatches(session, undefined)).toBe(false);
    d.clock.advance(SESSION_TTL_MS);
    await expect(resolveSession(s, d, token)).rejects.toMatchObject({ code: 'SESSION_INVALID' });
    const second = await createSession(s, d, u.id);
    await revokeSession(s, d, second.token);
    await expect(resolveSession(s, d, second.token)).rejects.toMatchObject({ code: 'SESSION_INVALID' });
    const third = await createSession(s, d, u.id);
    expect(await revokeUserSessions(s, d, u.id)).toBe(1);
    await expect(resolveSession(s, d, third.token)).rejects.toMatchObject({ code: 'SESSION_INVALID' });
    await expect(resolveSession(s, d, 'garbage'.repeat(1000))).rejects.toMatchObject({ code: 'SESSION_INVALID' });
  });

  it('API tokens: shown once, stored hashed, last use recorded sparingly, revocable, scoped by team', async () => {
    const d = deps();
    const s = ctx.store();
    const [a, b] = [await createTeam(s, d, 'A'), await createTeam(s, d, 'B')];
    const { token, info } = await createApiToken(s, d, a.id, { name: 'GitHub Actions', role: 'releaser' });
    expect(token).toMatch(/^asc_[a-z2-7]{52}$/);
    const row = await s.db.selectFrom('api_tokens').selectAll().where('id', '=', info.id).executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(hashToken(token));
    expect(JSON.stringify(row)).not.toContain(token);
    expect(JSON.stringify(await listApiTokens(s, a.id))).not.toContain(token);
    expect(await listApiTokens(s, b.id)).toEqual([]);

    const first = await verifyApiToken(s, d, token);
    expect(first).toMatchObject({ teamId: a.id, role: 'releaser', lastUsedAt: new Date(d.clock.now()).toISOString() });
    d.clock.advance(1000);
    expect((await verifyApiToken(s, d, token)).lastUsedAt).toBe(first.lastUsedAt);
    d.clock.advance(LAST_USED_RESOLUTION_MS);
    expect((await verifyApiToken(s, d, token)).lastUsedAt).toBe(new Date(d.clock.now()).toISOString());

    await expect(revokeApiToken(s, d, b.id, info.id)).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    await expect(verifyApiToken(s, d, token)).resolves.toMatchObject({ id: info.id });
    await revokeApiToken(s, d, a.id, info.id);
    await expect(verifyApiToken(s, d, token)).rejects.toMatchObject({ code: 'API_TOKEN_INVALID' });
    await expect(verifyApiToken(s, d, `asc_${'a'.repeat(52)}`)).rejects.toMatchObject({ code: 'API_TOKEN_INVALID' });

    const expiring = await createApiToken(s, d, a.id, {
      name: 'short',
      role: 'viewer',
      expiresAt: new Date(d.clock.now() + 5000).toISOString(),
    });
    await verifyApiToken(s, d, expiring.token);
    d.clock.advance(5000);
    await expect(verifyApiToken(s, d, expiring.token)).rejects.toMatchObject({ code: 'API_TOKEN_INVALID' });
  });

  it('sign-in links work once, expire, and two racing clicks sign in once', async () => {
    const d = deps();
    const s = ctx.store();
    const u = await createUser(s, d, { email: email(), name: 'L' });
    const link = await createSignInLink(s, d, u.id);
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => consumeSignInLink(s, d, link.token)));
    expect(
      results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<string>).value),
    ).toEqual([u.id]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
    const late = await createSignInLink(s, d, u.id);
    d.clock.advance(SIGN_IN_LINK_TTL_MS);
    await expect(consumeSignInLink(s, d, late.token)).rejects.toMatchObject({ code: 'SIGN_IN_LINK_INVALID' });
  });

  it('password sign-in: one answer for unknown user and wrong password, throttled, session on success', async () => {
    const d = deps();
    const s = ctx.store();
    const addr = email();
    const u = await createUser(s, d, {
      email: addr,
      name: 'P',
      passwordHash: await hashPassword('a long passphrase', FAST),
    });
    const limiter = new LoginLimiter(d.clock, { perUser: 3, perIp: 100, windowMs: 60_000, maxEntries: 100 });
    const req = { email: addr, password: 'a long passphrase', ip: '192.0.2.1' };
    const ok = await signInWithPassword(s, d, limiter, req, FAST);
    expect(ok.user).toEqual({ id: u.id, email: addr, name: 'P', createdAt: u.createdAt, disabled: false });
    expect((await resolveSession(s, d, ok.token)).user.id).toBe(u.id);

    const wrong = await signInWithPassword(s, d, limiter, { ...req, password: 'not the passphrase' }, FAST).catch(
      (e: unknown) => e,
    );
    const unknown = await signInWithPassword(s, d, limiter, { ...req, email: 'nobody@example.com' }, FAST).catch(
      (e: unknown) => e,
    );
    expect(wrong).toMatchObject({ code: 'SIGN_IN_FAILED' });
    expect(unknown).toMatchObject({ code: 'SIGN_IN_FAILED', message: (wrong as Error).message });
    await signInWithPassword(s, d, limiter, { ...req, password: 'wrong again!!' }, FAST).catch(() => {});
    await signInWithPassword(s, d, limiter, { ...req, password: 'and again!!!!' }, FAST).catch(() => {});
    // Locked now, even with the right password.
    await expect(signInWithPassword(s, d, limiter, req, FAST)).rejects.toMatchObject({ code: 'SIGN_IN_THROTTLED' });
    d.clock.advance(60_001);
    await expect(signInWithPassword(s, d, limiter, req, FAST)).resolves.toMatchObject({ user: { id: u.id } });
  });

  it('a hash with weaker parameters is upgraded at the next good sign-in', async () => {
    const d = deps();
    const s = ctx.store();
    const addr = email();
    const u = await createUser(s, d, {
      email: addr,
      name: 'R',
      passwordHash: await hashPassword('a long passphrase', FAST),
    });
    const stronger = { ...FAST, N: 2 ** 11 };
    await signInWithPassword(
      s,
      d,
      new LoginLimiter(d.clock),
      { email: addr, password: 'a long passphrase', ip: 'x' },
      stronger,
    );
    const row = await s.db.selectFrom('users').select('password_hash').where('id', '=', u.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$2048\$/);
  });
});
