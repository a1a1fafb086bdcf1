import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock.js';
import { appleToken } from '../test/helpers/jwt.js';
import { createSimulator, type SimulatorOptions } from './index.js';
import type { SeedInput } from './seed.js';
import { DEFAULT_SEED } from './seed.js';

function setup(opts: SimulatorOptions = {}, role = 'APP_MANAGER') {
  const clock = opts.clock instanceof FakeClock ? opts.clock : new FakeClock(Date.UTC(2026, 5, 1));
  const sim = createSimulator({ clock, ...opts });
  const key = sim.createKey({ role });
  const auth = () => ({ authorization: `Bearer ${appleToken(key, Math.floor(clock.now() / 1000))}` });
  const req = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    sim.app.inject({
      method,
      url,
      headers: { ...auth(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { sim, key, clock, req };
}

const uploadBody = (appId = '1000000001', attrs: Record<string, unknown> = {}) => ({
  data: {
    type: 'buildUploads',
    attributes: { cfBundleShortVersionString: '1.1.0', cfBundleVersion: '7', platform: 'IOS', ...attrs },
    relationships: { app: { data: { type: 'apps', id: appId } } },
  },
});

describe('simulator: routing and query validation', () => {
  it('unknown path → 404 NOT_FOUND as Apple words it, known path with another method → 405', async () => {
    const { req } = setup();
    const r1 = await req('GET', '/v1/nonsense');
    expect(r1.statusCode).toBe(404);
    expect(r1.json().errors[0]).toMatchObject({
      status: '404',
      code: 'NOT_FOUND',
      title: 'The specified resource does not exist',
      detail: 'The path provided does not match a defined resource type.',
    });
    const r2 = await req('DELETE', '/v1/apps');
    expect(r2.statusCode).toBe(405);
    expect(r2.json().errors[0].code).toBe('METHOD_NOT_ALLOWED');
  });

  it('undeclared parameters, bad enums, limit over the maximum and missing required filters → 400 PARAMETER_ERROR.*', async () => {
    const { req } = setup();
    const cases: [string, string, string][] = [
      ['/v1/apps?filter[color]=red', 'PARAMETER_ERROR.ILLEGAL', 'filter[color]'],
      ['/v1/builds?filter[processingState]=DONE', 'PARAMETER_ERROR.INVALID', 'filter[processingState]'],
      ['/v1/apps?limit=201', 'PARAMETER_ERROR.INVALID', 'limit'],
      ['/v1/apps?limit=0', 'PARAMETER_ERROR.INVALID', 'limit'],
      ['/v1/apps?include=nonsense', 'PARAMETER_ERROR.INVALID', 'include'],
      ['/v1/apps?fields[apps]=name,color', 'PARAMETER_ERROR.INVALID', 'fields[apps]'],
      ['/v1/builds?sort=name', 'PARAMETER_ERROR.INVALID', 'sort'],
      ['/v1/apps?cursor=%21%21', 'PARAMETER_ERROR.INVALID', 'cursor'],
      ['/v1/reviewSubmissions', 'PARAMETER_ERROR.REQUIRED', 'filter[app]'],
    ];
    for (const [url, code, parameter] of cases) {
      const r = await req('GET', url);
      expect(r.statusCode, url).toBe(400);
      expect(r.json().errors[0], url).toMatchObject({ status: '400', code, source: { parameter } });
    }
    expect((await req('GET', '/v1/apps?limit=200&fields[apps]=name,bundleId&sort=-bundleId')).statusCode).toBe(200);
  });
});

describe('simulator: request bodies', () => {
  it('creates with 201, Location and the JSON:API document', async () => {
    const { req } = setup();
    const r = await req('POST', '/v1/buildUploads', uploadBody());
    expect(r.statusCode).toBe(201);
    const doc = r.json();
    expect(doc.data).toMatchObject({
      type: 'buildUploads',
      attributes: { cfBundleVersion: '7', state: { state: 'AWAITING_UPLOAD' } },
    });
    expect(r.headers.location).toBe(`http://localhost:80/v1/buildUploads/${doc.data.id}`);
  });

  it('each validation class answers Apple’s status and code with source.pointer', async () => {
    const { req } = setup();
    const cases: [unknown, number, string, string][] = [
      [uploadBody('1000000001', { color: 'red' }), 409, 'ENTITY_ERROR.ATTRIBUTE.UNKNOWN', '/data/attributes/color'],
      [
        uploadBody('1000000001', { platform: 'ANDROID' }),
        409,
        'ENTITY_ERROR.ATTRIBUTE.INVALID',
        '/data/attributes/platform',
      ],
      [
        uploadBody('1000000001', { cfBundleVersion: 7 }),
        409,
        'ENTITY_ERROR.ATTRIBUTE.TYPE',
        '/data/attributes/cfBundleVersion',
      ],
      [
        { data: { ...uploadBody().data, attributes: { cfBundleShortVersionString: '1.0', platform: 'IOS' } } },
        409,
        'ENTITY_ERROR.ATTRIBUTE.REQUIRED',
        '/data/attributes/cfBundleVersion',
      ],
      [
        {
          data: {
            ...uploadBody().data,
            relationships: { app: uploadBody().data.relationships.app, build: { data: { type: 'builds', id: 'x' } } },
          },
        },
        409,
        'ENTITY_ERROR.RELATIONSHIP.UNKNOWN',
        '/data/relationships/build',
      ],
      [
        { data: { ...uploadBody().data, relationships: {} } },
        409,
        'ENTITY_ERROR.RELATIONSHIP.REQUIRED',
        '/data/relationships/app',
      ],
      [{ data: { ...uploadBody().data, type: 'builds' } }, 409, 'ENTITY_ERROR.INCLUDED.INVALID_TYPE', '/data/type'],
      [{ data: { type: 'buildUploads', attribute: {} } }, 422, 'ENTITY_UNPROCESSABLE', '/data/attribute'],
      [{ nodata: true }, 422, 'ENTITY_UNPROCESSABLE', '/data'],
      [
        uploadBody('1000000001', { cfBundleVersion: 'seven' }),
        409,
        'ENTITY_ERROR.ATTRIBUTE.INVALID',
        '/data/attributes/cfBundleVersion',
      ],
      [uploadBody('999'), 409, 'ENTITY_ERROR.RELATIONSHIP.INVALID', '/data/relationships/app/data/id'],
    ];
    for (const [body, status, code, pointer] of cases) {
      const r = await req('POST', '/v1/buildUploads', body);
      expect(r.statusCode, code).toBe(status);
      const errs = r.json().errors as { code: string; source?: { pointer: string }; status: string }[];
      expect(
        errs.some((e) => e.code === code && e.source?.pointer === pointer && e.status === String(status)),
        `${code} ${JSON.stringify(errs)}`,
      ).toBe(true);
    }
    const bad = await req('POST', '/v1/buildUploads', '{not json');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].code).toBe('ENTITY_INVALID');
    const plain = await req('POST', '/v1/buildUploads', JSON.stringify(uploadBody()), { 'content-type': 'text/plain' });
    expect(plain.statusCode).toBe(415);
  });

  it('linkage edits answer 204 and show up in relationships and filters', async () => {
    const { req } = setup();
    const builds = (await req('GET', '/v1/builds?filter[app]=1000000001')).json().data as { id: string }[];
    const groups = (await req('GET', '/v1/betaGroups?filter[app]=1000000001&filter[isInternalGroup]=true')).json()
      .data as { id: string }[];
    expect(groups).toHaveLength(1);
    const r = await req('POST', `/v1/builds/${builds[0]!.id}/relationships/betaGroups`, {
      data: [{ type: 'betaGroups', id: groups[0]!.id }],
    });
    expect(r.statusCode).toBe(204);
    const inGroup = (await req('GET', `/v1/betaGroups/${groups[0]!.id}/builds`)).json().data as { id: string }[];
    expect(inGroup.map((b) => b.id)).toEqual([builds[0]!.id]);
    expect(
      (await req('GET', `/v1/builds?filter[app]=1000000001&filter[betaGroups]=${groups[0]!.id}`)).json().data,
    ).toHaveLength(1);
    const bad = await req('POST', `/v1/builds/${builds[0]!.id}/relationships/betaGroups`, {
      data: [{ type: 'betaGroups', id: 'nope' }],
    });
    expect(bad.statusCode).toBe(409);
    expect(bad.json().errors[0].source.pointer).toBe('/data/0/id');
  });
});

describe('simulator: JSON:API behaviour', () => {
  const many: SeedInput = {
    ...DEFAULT_SEED,
    builds: Array.from({ length: 7 }, (_, i) => ({
      app: 'com.example.sandbox.one',
      version: '2.0.0',
      buildNumber: String(i + 1),
      uploadedDate: `2026-02-0${i + 1}T00:00:00Z`,
    })),
  };

  it('paginates with an opaque cursor over 3+ pages, with meta.paging.total', async () => {
    const { req } = setup({ seed: many });
    const seen: string[] = [];
    let url: string | undefined = '/v1/builds?filter[app]=1000000001&limit=3&sort=version';
    let pages = 0;
    while (url) {
      const doc: { meta: { paging: unknown }; data: { attributes: { version: string } }[]; links: { next?: string } } =
        (await req('GET', url!)).json();
      pages++;
      expect(doc.meta.paging).toMatchObject({ total: 7, limit: 3 });
      seen.push(...doc.data.map((d: { attributes: { version: string } }) => d.attributes.version));
      url = doc.links.next ? new URL(doc.links.next!).pathname + new URL(doc.links.next!).search : undefined;
      if (url) expect(new URL(doc.links.next!).searchParams.get('cursor')).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  });

  it('filters, sorts, includes and sparse fieldsets', async () => {
    const { req } = setup({ seed: many });
    const doc = (
      await req(
        'GET',
        '/v1/builds?filter[app]=1000000001&filter[version]=3,5&sort=-version&include=preReleaseVersion&fields[builds]=version,preReleaseVersion',
      )
    ).json();
    expect(doc.data.map((d: { attributes: { version: string } }) => d.attributes.version)).toEqual(['5', '3']);
    expect(Object.keys(doc.data[0].attributes)).toEqual(['version']);
    expect(Object.keys(doc.data[0].relationships)).toEqual(['preReleaseVersion']);
    expect(doc.data[0].relationships.preReleaseVersion.data.type).toBe('preReleaseVersions');
    expect(doc.included).toHaveLength(1);
    expect(doc.included[0].attributes).toEqual({ version: '2.0.0', platform: 'IOS' });
    // Linkage data appears only for included relationships.
    const plain = (await req('GET', '/v1/builds?filter[app]=1000000001&limit=1')).json();
    expect(plain.data[0].relationships.preReleaseVersion.data).toBeUndefined();
    expect(plain.data[0].relationships.preReleaseVersion.links.related).toMatch(/\/preReleaseVersion$/);
    const dotted = (
      await req('GET', '/v1/builds?filter[app]=1000000001&filter[preReleaseVersion.version]=1.0.0')
    ).json();
    expect(dotted.data).toHaveLength(0);
  });

  it('--public-url is the base of every link it advertises', async () => {
    const { req } = setup({ publicUrl: 'https://asc-proxy.example/' });
    const doc = (await req('GET', '/v1/apps?limit=1')).json();
    expect(doc.links.self).toMatch(/^https:\/\/asc-proxy\.example\/v1\/apps\?/);
    expect(doc.links.next).toMatch(/^https:\/\/asc-proxy\.example\/v1\/apps\?.*cursor=/);
    expect(doc.data[0].links.self).toBe('https://asc-proxy.example/v1/apps/1000000001');
  });

  it("another team's resources are invisible (404), not forbidden", async () => {
    const seed: SeedInput = {
      ...DEFAULT_SEED,
      teams: [
        ...DEFAULT_SEED.teams,
        { id: 'OTHERTEAM1', name: 'Other', issuerId: '11111111-2222-3333-4444-555555555555' },
      ],
      apps: [
        ...(DEFAULT_SEED.apps ?? []),
        { id: '2000000001', team: 'OTHERTEAM1', bundleId: 'com.other.app', name: 'Other' },
      ],
    };
    const { req } = setup({ seed });
    expect((await req('GET', '/v1/apps')).json().data).toHaveLength(2);
    const r = await req('GET', '/v1/apps/2000000001');
    expect(r.statusCode).toBe(404);
    expect(r.json().errors[0].code).toBe('NOT_FOUND');
  });
});

describe('simulator: quota, roles, agreements, faults, persistence', () => {
  it('rolling hourly quota per key, 429 RATE_LIMIT_EXCEEDED when spent, refilled an hour later', async () => {
    const { req, clock } = setup({ rateLimitPerHour: 3 });
    for (let i = 0; i < 3; i++)
      expect((await req('GET', '/v1/apps')).headers['x-rate-limit']).toBe(`user-hour-lim:3;user-hour-rem:${2 - i};`);
    const r = await req('GET', '/v1/apps');
    expect(r.statusCode).toBe(429);
    expect(r.json().errors[0]).toMatchObject({ status: '429', code: 'RATE_LIMIT_EXCEEDED' });
    expect(r.headers['x-rate-limit']).toBe('user-hour-lim:3;user-hour-rem:0;');
    clock.advance(3_600_001);
    expect((await req('GET', '/v1/apps')).statusCode).toBe(200);
  });

  it('roles: 403 FORBIDDEN_ERROR for what a role may not do; individual keys never reach provisioning', async () => {
    const dev = setup({}, 'DEVELOPER');
    expect((await dev.req('GET', '/v1/apps')).statusCode).toBe(200);
    expect((await dev.req('POST', '/v1/buildUploads', uploadBody())).statusCode).toBe(201);
    const builds = (await dev.req('GET', '/v1/builds?filter[app]=1000000001')).json().data;
    const groups = (await dev.req('GET', '/v1/betaGroups?filter[app]=1000000001')).json().data;
    const r = await dev.req('POST', `/v1/builds/${builds[0].id}/relationships/betaGroups`, {
      data: [{ type: 'betaGroups', id: groups[0].id }],
    });
    expect(r.statusCode).toBe(403);
    expect(r.json().errors[0]).toMatchObject({
      code: 'FORBIDDEN_ERROR',
      detail: 'The API key in use does not allow this request',
    });
    expect((await dev.req('GET', '/v1/bundleIds')).statusCode).toBe(403);
    const am = setup();
    expect((await am.req('GET', '/v1/bundleIds')).statusCode).toBe(200);
    expect((await am.req('GET', '/v1/users')).statusCode).toBe(403);
    const admin = setup({}, 'ADMIN');
    expect((await admin.req('GET', '/v1/users')).statusCode).toBe(200);
    const finance = setup({}, 'FINANCE');
    expect((await finance.req('GET', '/v1/builds?filter[app]=1000000001')).statusCode).toBe(403);
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const sim = createSimulator({ clock });
    const ind = sim.createKey({ individual: true });
    const token = appleToken(ind, clock.now() / 1000, { sub: 'user' });
    expect(
      (await sim.app.inject({ method: 'GET', url: '/v1/bundleIds', headers: { authorization: `Bearer ${token}` } }))
        .statusCode,
    ).toBe(403);
  });

  it('a team without signed agreements gets Apple’s agreement 403 everywhere', async () => {
    const seed: SeedInput = { ...DEFAULT_SEED, teams: [{ ...DEFAULT_SEED.teams[0]!, agreementsSigned: false }] };
    const { req } = setup({ seed });
    const r = await req('GET', '/v1/apps');
    expect(r.statusCode).toBe(403);
    expect(r.json().errors[0].code).toBe('FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED');
  });

  it('faults are reproducible with a seed', async () => {
    const run = async () => {
      const { req } = setup({ faults: '5xx=0.3,429=0.2', faultSeed: 42 });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push((await req('GET', '/v1/apps')).statusCode);
      return out;
    };
    const a = await run();
    expect(a).toEqual(await run());
    expect(a.filter((s) => s === 500).length).toBeGreaterThan(3);
    expect(a.filter((s) => s === 429).length).toBeGreaterThan(1);
    expect(a.filter((s) => s === 200).length).toBeGreaterThan(5);
  });

  it('--state-file keeps state across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-state-'));
    const stateFile = join(dir, 'state.json');
    const first = setup({ stateFile });
    const created = (await first.req('POST', '/v1/buildUploads', uploadBody())).json().data.id as string;
    await first.sim.close();
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).resources.some((r: { id: string }) => r.id === created)).toBe(
      true,
    );
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const second = createSimulator({ stateFile, clock });
    const key = [...second.store.keys.values()][0]!;
    expect(key.keyId).toBe(first.key.keyId);
    const r = await second.app.inject({
      method: 'GET',
      url: `/v1/buildUploads/${created}`,
      headers: { authorization: `Bearer ${appleToken(first.key, clock.now() / 1000)}` },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().data.attributes.cfBundleVersion).toBe('7');
    rmSync(dir, { recursive: true, force: true });
  });
});
