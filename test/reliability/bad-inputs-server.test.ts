import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { createApiToken } from '../../src/server/accounts/api-tokens.js';
import { ensureFirstAdmin } from '../../src/server/accounts/bootstrap.js';
import { SESSION_TTL_MS } from '../../src/server/accounts/sessions.js';
import { createTeam } from '../../src/server/accounts/teams.js';
import { createService, type Service } from '../../src/server/service.js';
import { describeStores } from '../../src/server/store/testing/dialects.js';

/**
 * Hostile requests against the server's HTTP API: malformed JSON, unknown fields, oversize bodies, wrong
 * content types, hostile archives, bad keys, expired sessions, forged CSRF tokens, other teams' ids, and
 * SQL-ish and script-ish text in every text field. Each answer is a 4xx with the error shape of DESIGN
 * §3.5 (a catalogue code, one line, a remedy, no stack), Apple is never called, and nothing is half-stored.
 */
const HOSTILE = [
  "'; DROP TABLE users; --",
  '" OR 1=1 --',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '\u0000\u001b[31mred\u202e',
  "Robert'); DELETE FROM deploys WHERE ('1'='1",
];

describeStores('server bad-input corpus', (ctx) => {
  let svc: Service;
  let dir: string;
  const clock = new FakeClock(Date.UTC(2026, 0, 10));
  const appleCalls: string[] = [];
  let owner: Record<string, string>;
  let viewer: Record<string, string>;
  let other: Record<string, string>;
  let session: { cookie: string; csrf: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ascend-bad-server-'));
    const loc = ctx.location();
    svc = await createService({
      dataDir: dir,
      databaseUrl: loc.dialect === 'sqlite' ? `sqlite:${loc.path}` : `${loc.url}?schema=${loc.schema}`,
      apiUrl: 'http://127.0.0.1:9',
      workers: 0,
      clock,
      maxArtifactBytes: 64 * 1024,
      apple: {
        checkKey: async (k) => {
          appleCalls.push(`check ${k.keyId}`);
          throw new Error('Apple must not be asked for bad input');
        },
        buildNumbersInUse: async () => {
          appleCalls.push('numbers');
          throw new Error('Apple must not be asked for bad input');
        },
      },
    });
    const { store, deps } = svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    owner = { authorization: `Bearer ${first.apiToken}` };
    const tok = async (teamId: string, role: 'viewer' | 'owner') => ({
      authorization: `Bearer ${(await createApiToken(store, deps, teamId, { name: role, role })).token}`,
    });
    viewer = await tok(first.team.id, 'viewer');
    other = await tok((await createTeam(store, deps, 'Other')).id, 'owner');
    const link = await svc.app.inject({
      method: 'POST',
      url: '/api/v1/session/link',
      payload: { token: first.signInToken },
    });
    session = { cookie: String(link.headers['set-cookie']).split(';')[0]!, csrf: link.json().csrfToken };
  });
  afterAll(async () => {
    await svc?.close({ timeoutMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every refusal: the status, the code, the §3.5 shape, one line, no stack or internals. */
  const refused = (res: { statusCode: number; body: string }, status: number, code: string) => {
    expect(res.statusCode, res.body).toBe(status);
    const body = JSON.parse(res.body);
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error.code).toBe(code);
    expect(body.error.message).not.toMatch(/\n|\bat .+:\d+:\d+|node_modules|SELECT|sqlite|postgres/i);
    expect(body.error.remedy.length).toBeGreaterThan(10);
  };
  const post = (url: string, headers: Record<string, string>, payload: string | Buffer, type = 'application/json') =>
    svc.app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': type }, payload });

  it('malformed JSON, unknown fields, oversize bodies and wrong content types are 4xx with the error shape', async () => {
    refused(await post('/api/v1/tokens', owner, '{"name": "ci", "role":'), 400, 'USAGE');
    refused(
      await post('/api/v1/tokens', owner, JSON.stringify({ name: 'ci', role: 'viewer', admin: true })),
      400,
      'USAGE',
    );
    refused(
      await post('/api/v1/tokens', owner, JSON.stringify({ name: 'x'.repeat(300 * 1024), role: 'viewer' })),
      413,
      'USAGE',
    );
    refused(
      await post('/api/v1/tokens', owner, 'name=ci&role=viewer', 'application/x-www-form-urlencoded'),
      415,
      'USAGE',
    );
    refused(await post('/api/v1/artifacts', owner, '{}'), 400, 'USAGE');
    refused(await post('/api/v1/tokens', owner, JSON.stringify({ name: 'ci', role: 'root' })), 400, 'USAGE');
    refused(await post('/api/v1/tokens', owner, '[1,2,3]'), 400, 'USAGE');
  });

  it('hostile or oversize archives are refused and nothing is kept', async () => {
    refused(await post('/api/v1/artifacts', owner, randomBytes(4096), 'application/octet-stream'), 422, 'IPA_NOT_ZIP');
    refused(
      await post('/api/v1/artifacts', owner, randomBytes(65 * 1024), 'application/octet-stream'),
      413,
      'ARTIFACT_TOO_LARGE',
    );
    const zipHead = Buffer.concat([Buffer.from('PK\u0003\u0004'), randomBytes(2000)]);
    const broken = await post('/api/v1/artifacts', owner, zipHead, 'application/octet-stream');
    expect(broken.statusCode).toBe(422);
    expect(broken.json().error.code).toMatch(/^IPA_/);
    const left = readdirSync(join(dir, 'artifacts'), { recursive: true }).filter((f) => String(f).length > 60);
    expect(left).toEqual([]);
  });

  it('invalid keys are named locally and never reach Apple or the vault', async () => {
    const add = (privateKey: string, keyId = 'ABCDE12345') =>
      post(
        '/api/v1/keys',
        owner,
        JSON.stringify({ name: 'k', keyId, issuerId: '69a6de70-03db-47e3-e053-5b8c7c11a4d1', privateKey }),
      );
    refused(await add('not a key'), 422, 'KEY_NOT_PEM');
    refused(
      await add(
        '-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg\n-----END PRIVATE KEY-----',
      ),
      422,
      'KEY_TRUNCATED',
    );
    refused(await add('x', "'; DROP TABLE keys; --"), 422, 'KEY_ID_INVALID');
    expect(appleCalls).toEqual([]);
    expect((await svc.app.inject({ method: 'GET', url: '/api/v1/keys', headers: owner })).json().data).toEqual([]);
  });

  it('forged CSRF tokens, expired sessions, viewers’ writes and other teams’ ids are refused', async () => {
    const withSession = (csrf?: string) => ({ cookie: session.cookie, ...(csrf ? { 'x-csrf-token': csrf } : {}) });
    refused(
      await post('/api/v1/tokens', withSession(), JSON.stringify({ name: 'a', role: 'viewer' })),
      403,
      'CSRF_INVALID',
    );
    refused(
      await post('/api/v1/tokens', withSession('forged'), JSON.stringify({ name: 'a', role: 'viewer' })),
      403,
      'CSRF_INVALID',
    );
    expect(
      (await post('/api/v1/tokens', withSession(session.csrf), JSON.stringify({ name: 'a', role: 'viewer' })))
        .statusCode,
    ).toBe(201);
    refused(
      await post('/api/v1/tokens', viewer, JSON.stringify({ name: 'b', role: 'viewer' })),
      403,
      'PERMISSION_DENIED',
    );
    const mine = (await svc.app.inject({ method: 'GET', url: '/api/v1/tokens', headers: owner })).json().data[0].id;
    refused(
      await svc.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${mine}`, headers: other }),
      404,
      'RESOURCE_NOT_FOUND',
    );
    refused(
      await svc.app.inject({ method: 'GET', url: '/api/v1/deploys/dep_x', headers: other }),
      404,
      'RESOURCE_NOT_FOUND',
    );
    refused(
      await svc.app.inject({ method: 'GET', url: '/api/v1/keys', headers: { authorization: 'Bearer ascx_forged' } }),
      401,
      'API_TOKEN_INVALID',
    );
    clock.advance(SESSION_TTL_MS + 1000);
    refused(
      await svc.app.inject({ method: 'GET', url: '/api/v1/session', headers: withSession() }),
      401,
      'SESSION_INVALID',
    );
  });

  it('sign-in attempts are rate-limited and audited without the password', async () => {
    const tryOnce = () =>
      post('/api/v1/session', {}, JSON.stringify({ email: 'owner@example.com', password: 'wrong password!' }));
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await tryOnce()).statusCode);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    refused(await tryOnce(), 429, 'SIGN_IN_THROTTLED');
    const audit = JSON.stringify(
      (await svc.app.inject({ method: 'GET', url: '/api/v1/audit?limit=200', headers: owner })).json(),
    );
    expect(audit).not.toContain('wrong password!');
  });

  it('SQL-ish and script-ish text in every text field is refused or stored as plain data', async () => {
    for (const text of HOSTILE) {
      const token = await post('/api/v1/tokens', owner, JSON.stringify({ name: text.slice(0, 60), role: 'viewer' }));
      expect([201, 400]).toContain(token.statusCode);
      expect(token.headers['content-type']).toMatch(/^application\/json/);
      if (token.statusCode === 201) expect(token.json().name).toBe(text.slice(0, 60));
      // A NUL is refused everywhere (PostgreSQL text cannot hold one); other text is plain data.
      const nul = text.includes('\u0000');
      refused(
        await post('/api/v1/session', {}, JSON.stringify({ email: text, password: text })),
        nul ? 400 : 401,
        nul ? 'USAGE' : 'SIGN_IN_FAILED',
      );
      refused(
        await post('/api/v1/deploys', owner, JSON.stringify({ artifactId: text, whatsNew: text })),
        nul ? 400 : 404,
        nul ? 'USAGE' : 'RESOURCE_NOT_FOUND',
      );
      refused(await post('/api/v1/apps/1/build-numbers', owner, JSON.stringify({ version: text })), 400, 'USAGE');
      const settings = await svc.app.inject({
        method: 'PUT',
        url: '/api/v1/settings',
        headers: owner,
        payload: { note: text },
      });
      if (nul) refused(settings, 400, 'USAGE');
      else expect(settings.json().note).toBe(text);
      refused(
        await svc.app.inject({ method: 'GET', url: `/api/v1/deploys/${encodeURIComponent(text)}`, headers: owner }),
        nul ? 400 : 404,
        nul ? 'USAGE' : 'RESOURCE_NOT_FOUND',
      );
    }
    // The tables are all still there and hold only what was accepted.
    const health = await svc.app.inject({ method: 'GET', url: '/api/v1/health' });
    expect(health.json().status).toBe('ok');
    expect((await svc.app.inject({ method: 'GET', url: '/api/v1/deploys', headers: owner })).json().data).toEqual([]);
    expect(appleCalls).toEqual([]);
  });
});
