import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock.js';
import { appleToken } from '../test/helpers/jwt.js';
import { createSimulator } from './index.js';
import { scopeCovers } from './scope.js';

function setup() {
  const clock = new FakeClock(Date.UTC(2026, 5, 1));
  const sim = createSimulator({ clock });
  const key = sim.createKey({ role: 'ADMIN' });
  const get = (url: string, over: Record<string, unknown> = {}, method: 'GET' | 'POST' = 'GET') =>
    sim.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${appleToken(key, Math.floor(clock.now() / 1000), over)}`,
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      },
      payload: method === 'POST' ? '{}' : undefined,
    });
  return { sim, get };
}

describe('simulator routing: what Apple defines but the simulator does not', () => {
  it('an operation in Apple’s spec that is not simulated answers 501 NOT_SIMULATED, not 404 or 405', async () => {
    const { get } = setup();
    const r = await get('/v1/appClips/123');
    expect(r.statusCode).toBe(501);
    expect(r.json().errors[0]).toMatchObject({ status: '501', code: 'NOT_SIMULATED' });
    expect(r.json().errors[0].detail).toContain('GET /v1/appClips/{id}');
    const post = await get('/v1/appEncryptionDeclarations', {}, 'POST');
    expect(post.statusCode).toBe(501);
  });

  it('an invented path is 404 NOT_FOUND; a method Apple does not define on a real path is 405', async () => {
    const { get } = setup();
    expect((await get('/v1/appGroups')).json().errors[0].code).toBe('NOT_FOUND');
    const r = await get('/v1/apps', {}, 'POST');
    expect(r.statusCode).toBe(405);
  });
});

describe('simulator: the JWT scope claim (Apple: method + path + optional query)', () => {
  it('a token scoped to GET /v1/builds is refused for GET /v1/apps with Apple’s 403', async () => {
    const { get } = setup();
    expect((await get('/v1/builds', { scope: ['GET /v1/builds'] })).statusCode).toBe(200);
    const r = await get('/v1/apps', { scope: ['GET /v1/builds'] });
    expect(r.statusCode).toBe(403);
    expect(r.json().errors[0]).toMatchObject({
      code: 'FORBIDDEN.REQUEST_DOES_NOT_MATCH_SCOPE',
      title: 'This request does not match the scope specified in the API token.',
    });
    expect(r.json().errors[0].detail).toContain('path=/v1/apps');
  });

  it('a scope with a query covers exactly that query, in any order, ignoring limit, cursor and sort', async () => {
    const { get } = setup();
    const scope = ['GET /v1/apps?filter[bundleId]=com.example.sandbox.one'];
    expect((await get('/v1/apps?filter[bundleId]=com.example.sandbox.one&limit=5', { scope })).statusCode).toBe(200);
    expect((await get('/v1/apps', { scope })).statusCode).toBe(403);
    expect((await get('/v1/apps?filter[bundleId]=com.example.sandbox.two', { scope })).statusCode).toBe(403);
    expect(
      scopeCovers(
        'GET /v1/apps?filter[platform]=IOS&filter[name]=x',
        'GET',
        '/v1/apps',
        new URLSearchParams('filter[name]=x&filter[platform]=IOS&sort=name'),
      ),
    ).toBe(true);
    expect(scopeCovers('GET /v1/apps', 'POST', '/v1/apps', new URLSearchParams())).toBe(false);
  });

  it('a write is refused by a GET-only scope; a token without scope may do what its role allows', async () => {
    const { get } = setup();
    const r = await get('/v1/buildUploads', { scope: ['GET /v1/apps'] }, 'POST');
    expect(r.statusCode).toBe(403);
    expect(r.json().errors[0].code).toBe('FORBIDDEN.REQUEST_DOES_NOT_MATCH_SCOPE');
    expect((await get('/v1/apps')).statusCode).toBe(200);
  });
});
