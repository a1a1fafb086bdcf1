import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { LoginLimiter } from '../accounts/login-limiter.js';
import { hashPassword } from '../accounts/passwords.js';
import { createTeam, createUser, setMembership } from '../accounts/teams.js';
import { ArtifactFiles } from '../store/artifact-files.js';
import type { StoreDeps } from '../store/ids.js';
import { describeStores } from '../store/testing/dialects.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { buildApi } from './app.js';

const FAST = { N: 2 ** 10, r: 8, p: 1 };

describeStores('HTTP API: sessions, tokens, audit, settings', (ctx) => {
  let app: FastifyInstance;
  const deps: StoreDeps & { clock: FakeClock } = { clock: new FakeClock(), randomBytes: (n) => randomBytes(n) };
  const bodies: string[] = [];
  let admin: Awaited<ReturnType<typeof ensureFirstAdmin>>;

  beforeAll(async () => {
    const store = ctx.store();
    app = buildApi({
      store,
      vault: new Vault(store, { current: masterKeyOf(randomBytes(32)) }, deps),
      deps,
      limiter: new LoginLimiter(deps.clock),
      secureCookies: false,
      queue: { name: 'sqlite', workers: () => 2 },
      scrypt: FAST,
      artifacts: {
        files: new ArtifactFiles('/nonexistent', (n) => randomBytes(n)),
        maxBytes: 0,
        inspect: () => Promise.reject(new Error('unexpected inspection')),
      },
      // None of these routes may talk to Apple.
      apple: {
        checkKey: () => Promise.reject(new Error('unexpected call to Apple')),
        buildNumbersInUse: () => Promise.reject(new Error('unexpected call to Apple')),
      },
    });
    admin = await ensureFirstAdmin(store, deps, { apiToken: true, email: 'owner@example.com' });
    const { setPasswordHash } = await import('../accounts/teams.js');
    await setPasswordHash(store, admin.user.id, await hashPassword('owner passphrase', FAST));
  });
  afterAll(() => app.close());

  async function call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    opts: { body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const res = await app.inject({
      method,
      url,
      headers: opts.headers ?? {},
      ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
    });
    bodies.push(res.body);
    return res;
  }
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it('health answers without authentication', async () => {
    const res = await call('GET', '/api/v1/health');
    expect(res.json()).toEqual({ status: 'ok', database: ctx.dialect, queue: 'sqlite', workers: 2 });
  });

  it('no credentials, a bad token, an unknown route: Apple-free error bodies with codes', async () => {
    const none = await call('GET', '/api/v1/tokens');
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({
      error: { code: 'SESSION_INVALID', message: expect.any(String), remedy: expect.any(String) },
    });
    const bad = await call('GET', '/api/v1/tokens', { headers: bearer(`asc_${'a'.repeat(52)}`) });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error.code).toBe('API_TOKEN_INVALID');
    const missing = await call('GET', '/api/v1/nope');
    expect(missing.statusCode).toBe(404);
    const junk = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":',
    });
    expect(junk.statusCode).toBe(400);
    expect(junk.json().error.code).toBe('USAGE');
  });

  it('password sign-in sets an HttpOnly SameSite=Strict cookie; writes need the CSRF token', async () => {
    const wrong = await call('POST', '/api/v1/session', {
      body: { email: 'owner@example.com', password: 'nope nope nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('SIGN_IN_FAILED');
    const res = await call('POST', '/api/v1/session', {
      body: { email: 'owner@example.com', password: 'owner passphrase' },
    });
    expect(res.statusCode).toBe(200);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^ascend_session=ascs_[a-z2-7]{52}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const cookie = setCookie.split(';')[0]!;
    const info = res.json();
    expect(info.teams).toEqual([{ id: admin.team.id, name: admin.team.name, role: 'owner' }]);
    expect((await call('GET', '/api/v1/session', { headers: { cookie } })).json().csrfToken).toBe(info.csrfToken);

    const noCsrf = await call('POST', '/api/v1/tokens', {
      headers: { cookie },
      body: { name: 'CI', role: 'releaser' },
    });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error.code).toBe('CSRF_INVALID');
    const ok = await call('POST', '/api/v1/tokens', {
      headers: { cookie, 'x-csrf-token': info.csrfToken },
      body: { name: 'CI', role: 'releaser' },
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ name: 'CI', role: 'releaser', token: expect.stringMatching(/^asc_/) });

    const out = await call('DELETE', '/api/v1/session', { headers: { cookie, 'x-csrf-token': info.csrfToken } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await call('GET', '/api/v1/session', { headers: { cookie } })).statusCode).toBe(401);
  });

  it('tokens: shown once, roles enforced, other teams’ ids not found, every change audited', async () => {
    const owner = bearer(admin.apiToken!);
    const created = await call('POST', '/api/v1/tokens', {
      headers: owner,
      body: { name: 'Releaser', role: 'releaser' },
    });
    const releaser = created.json();
    const list = await call('GET', '/api/v1/tokens', { headers: owner });
    expect(list.body).not.toContain(releaser.token);
    expect(list.json().data.map((t: { id: string }) => t.id)).toContain(releaser.id);

    const denied = await call('POST', '/api/v1/tokens', {
      headers: bearer(releaser.token),
      body: { name: 'x', role: 'viewer' },
    });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('PERMISSION_DENIED');
    const adminTok = (
      await call('POST', '/api/v1/tokens', { headers: owner, body: { name: 'Admin', role: 'admin' } })
    ).json();
    const escalate = await call('POST', '/api/v1/tokens', {
      headers: bearer(adminTok.token),
      body: { name: 'x', role: 'owner' },
    });
    expect(escalate.statusCode).toBe(403);

    // Another team's owner cannot see or revoke this team's token.
    const other = await createTeam(ctx.store(), deps, 'Other');
    const u = await createUser(ctx.store(), deps, { email: 'other@example.com', name: 'O' });
    await setMembership(ctx.store(), deps, { teamId: other.id, userId: u.id, role: 'owner' });
    const { createApiToken } = await import('../accounts/api-tokens.js');
    const otherTok = (await createApiToken(ctx.store(), deps, other.id, { name: 'o', role: 'owner' })).token;
    const cross = await call('DELETE', `/api/v1/tokens/${releaser.id}`, { headers: bearer(otherTok) });
    expect(cross.statusCode).toBe(404);
    expect((await call('GET', '/api/v1/settings', { headers: bearer(releaser.token) })).statusCode).toBe(200);

    expect((await call('DELETE', `/api/v1/tokens/${releaser.id}`, { headers: owner })).statusCode).toBe(204);
    expect((await call('GET', '/api/v1/settings', { headers: bearer(releaser.token) })).statusCode).toBe(401);

    const auditRes = await call('GET', '/api/v1/audit?limit=50', { headers: owner });
    const actions = auditRes.json().data.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining(['token.create:success', 'token.revoke:success', 'session.sign_in:success']),
    );
    expect(auditRes.json().data[0]).toMatchObject({ actor: { type: 'token' }, ip: '127.0.0.1' });
    expect((await call('GET', '/api/v1/audit', { headers: bearer(otherTok) })).json().data).toEqual([]);
    const badLimit = await call('GET', '/api/v1/audit?limit=abc', { headers: owner });
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.json().error.code).toBe('USAGE');
  });

  it('a one-time sign-in link signs in once', async () => {
    const again = await ensureFirstAdmin(ctx.store(), deps);
    const first = await call('POST', '/api/v1/session/link', { body: { token: again.signInToken } });
    expect(first.statusCode).toBe(200);
    expect(String(first.headers['set-cookie'])).toContain('HttpOnly');
    const second = await call('POST', '/api/v1/session/link', { body: { token: again.signInToken } });
    expect(second.statusCode).toBe(401);
    expect(second.json().error.code).toBe('SIGN_IN_LINK_INVALID');
  });

  it('settings: viewers read, admins write, keys validated', async () => {
    const owner = bearer(admin.apiToken!);
    const put = await call('PUT', '/api/v1/settings', {
      headers: owner,
      body: { approval: { before: ['submit-review'] } },
    });
    expect(put.json()).toEqual({ approval: { before: ['submit-review'] } });
    const bad = await call('PUT', '/api/v1/settings', { headers: owner, body: { 'Bad Key!': 1 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('USAGE');
  });

  it('no response body ever carried a stored secret except the one token creation answer', () => {
    const joined = bodies.join('\n');
    expect(joined).not.toMatch(/ascs_[a-z2-7]{52}/);
    expect(joined).not.toMatch(/ascl_[a-z2-7]{52}/);
    expect(joined).not.toContain(admin.apiToken!);
    expect(joined).not.toMatch(/scrypt\$/);
  });

  it('the home page renders no name a person typed: the dashboard shows them as text, and no inline script runs', async () => {
    const store = ctx.store();
    const { setPasswordHash } = await import('../accounts/teams.js');
    const team = await createTeam(store, deps, '<script>alert(1)</script> & Co');
    const user = await createUser(store, deps, { email: 'typist@example.com', name: 'Typist' });
    await setPasswordHash(store, user.id, await hashPassword('typist passphrase', FAST));
    await setMembership(store, deps, { teamId: team.id, userId: user.id, role: 'viewer' });
    const signedIn = await call('POST', '/api/v1/session', {
      body: { email: 'typist@example.com', password: 'typist passphrase' },
    });
    const cookie = String(signedIn.headers['set-cookie']).split(';')[0]!;
    // The names reach the page only as JSON data (React renders them as text).
    const session = await call('GET', '/api/v1/session', { headers: { cookie } });
    expect(session.json().teams.map((t: { name: string }) => t.name)).toContain('<script>alert(1)</script> & Co');
    const home = await call('GET', '/', { headers: { cookie } });
    expect(home.body).not.toContain('alert(1)');
    expect(home.body).not.toContain('Typist');
    expect(home.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(home.headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
  });
});
