import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock.js';
import { appleToken } from '../test/helpers/jwt.js';
import { createSimulator } from './index.js';

function setup() {
  const clock = new FakeClock(Date.UTC(2026, 5, 1));
  const sim = createSimulator({ clock });
  const key = sim.createKey({ role: 'APP_MANAGER' });
  const req = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
    sim.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${appleToken(key, clock.now() / 1000)}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      payload: body ? JSON.stringify(body) : undefined,
    });
  const group = (attributes: Record<string, unknown>, app = '1000000001') =>
    req('POST', '/v1/betaGroups', {
      data: { type: 'betaGroups', attributes, relationships: { app: { data: { type: 'apps', id: app } } } },
    });
  const tester = (email: string, groups: string[]) =>
    req('POST', '/v1/betaTesters', {
      data: {
        type: 'betaTesters',
        attributes: { email, firstName: 'Ada' },
        relationships: { betaGroups: { data: groups.map((id) => ({ type: 'betaGroups', id })) } },
      },
    });
  return { sim, req, group, tester };
}

const codeOf = (r: { json(): { errors: { code: string; source?: { pointer: string } }[] } }) => r.json().errors[0]!;

describe('simulator: beta groups (create, update, delete) with TestFlight’s rules', () => {
  it('creates external and internal groups; a public link is for external groups only', async () => {
    const { group, req } = setup();
    const ext = await group({
      name: 'Friends',
      publicLinkEnabled: true,
      publicLinkLimitEnabled: true,
      publicLinkLimit: 50,
    });
    expect(ext.statusCode, ext.body).toBe(201);
    const a = ext.json().data.attributes;
    expect(a).toMatchObject({ isInternalGroup: false, publicLinkEnabled: true, publicLinkLimit: 50 });
    expect(a.publicLink).toMatch(/^https:\/\/testflight\.apple\.com\/join\//);
    const internalWithLink = await group({ name: 'Team', isInternalGroup: true, publicLinkEnabled: true });
    expect(internalWithLink.statusCode).toBe(409);
    expect(codeOf(internalWithLink)).toMatchObject({ source: { pointer: '/data/attributes/publicLinkEnabled' } });
    const extAll = await group({ name: 'Everyone', hasAccessToAllBuilds: true });
    expect(codeOf(extAll).source?.pointer).toBe('/data/attributes/hasAccessToAllBuilds');
    const dup = await group({ name: 'Friends' });
    expect(codeOf(dup).code).toBe('ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE');
    expect((await req('GET', '/v1/betaGroups?filter[name]=Friends')).json().data).toHaveLength(1);
  });

  it('update: public link limits need the limit enabled and stay within 1…10000; isInternalGroup is not patchable', async () => {
    const { group, req } = setup();
    const id = (await group({ name: 'Beta' })).json().data.id;
    const patch = (attributes: Record<string, unknown>) =>
      req('PATCH', `/v1/betaGroups/${id}`, { data: { type: 'betaGroups', id, attributes } });
    expect(codeOf(await patch({ publicLinkLimit: 10 })).source?.pointer).toBe('/data/attributes/publicLinkLimit');
    expect((await patch({ publicLinkLimitEnabled: true, publicLinkLimit: 10_001 })).statusCode).toBe(409);
    const ok = await patch({
      publicLinkEnabled: true,
      publicLinkLimitEnabled: true,
      publicLinkLimit: 10,
      name: 'Beta 2',
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().data.attributes).toMatchObject({ name: 'Beta 2', publicLinkLimit: 10 });
    expect(codeOf(await patch({ isInternalGroup: true })).code).toBe('ENTITY_ERROR.ATTRIBUTE.UNKNOWN');
    const off = await patch({ publicLinkEnabled: false });
    expect(off.json().data.attributes.publicLink).toBeUndefined();
  });

  it('delete removes the group and its memberships', async () => {
    const { group, req, tester } = setup();
    const id = (await group({ name: 'Gone' })).json().data.id;
    const t = (await tester('a@example.com', [id])).json().data.id;
    expect((await req('DELETE', `/v1/betaGroups/${id}`)).statusCode).toBe(204);
    expect((await req('GET', `/v1/betaGroups/${id}`)).statusCode).toBe(404);
    expect((await req('GET', `/v1/betaTesters/${t}/betaGroups`)).json().data).toEqual([]);
  });
});

describe('simulator: beta testers (create, list, delete, group membership)', () => {
  it('invites a tester into an external group; lists and deletes; bad or duplicate emails are 409', async () => {
    const { group, req, tester } = setup();
    const g = (await group({ name: 'Ext' })).json().data.id;
    const r = await tester('Ada@Example.com', [g]);
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json().data.attributes).toMatchObject({ email: 'ada@example.com', state: 'INVITED', inviteType: 'EMAIL' });
    const id = r.json().data.id;
    expect((await req('GET', `/v1/betaGroups/${g}/betaTesters`)).json().data.map((t: { id: string }) => t.id)).toEqual([
      id,
    ]);
    expect((await req('GET', '/v1/betaTesters?filter[email]=ada@example.com')).json().data).toHaveLength(1);
    expect(codeOf(await tester('ada@example.com', [g])).code).toBe('ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE');
    expect(codeOf(await tester('not-an-email', [g])).source?.pointer).toBe('/data/attributes/email');
    expect(codeOf(await tester('b@example.com', [])).code).toBe('ENTITY_ERROR.RELATIONSHIP.REQUIRED');
    expect((await req('DELETE', `/v1/betaTesters/${id}`)).statusCode).toBe(204);
    expect((await req('GET', `/v1/betaTesters/${id}`)).statusCode).toBe(404);
  });

  it('membership edits from both sides answer 204; internal groups refuse invited testers', async () => {
    const { group, req, tester, sim } = setup();
    const g1 = (await group({ name: 'One' })).json().data.id;
    const g2 = (await group({ name: 'Two' })).json().data.id;
    const internal = sim.store.list('betaGroups').find((g) => g.attributes.isInternalGroup === true)!.id;
    const t = (await tester('c@example.com', [g1])).json().data.id;
    const link = (method: 'POST' | 'DELETE', url: string, type: string, id: string) =>
      req(method, url, { data: [{ type, id }] });
    expect((await link('POST', `/v1/betaGroups/${g2}/relationships/betaTesters`, 'betaTesters', t)).statusCode).toBe(
      204,
    );
    expect((await link('DELETE', `/v1/betaTesters/${t}/relationships/betaGroups`, 'betaGroups', g1)).statusCode).toBe(
      204,
    );
    const groups = (await req('GET', `/v1/betaTesters/${t}/betaGroups`)).json().data.map((g: { id: string }) => g.id);
    expect(groups).toEqual([g2]);
    const refused = await link('POST', `/v1/betaTesters/${t}/relationships/betaGroups`, 'betaGroups', internal);
    expect(refused.statusCode).toBe(409);
    expect(codeOf(refused).code).toBe('ENTITY_ERROR.RELATIONSHIP.INVALID');
    const unknown = await link('POST', `/v1/betaGroups/${g2}/relationships/betaTesters`, 'betaTesters', 'nope');
    expect(codeOf(unknown).source?.pointer).toBe('/data/0/id');
  });

  it('individual builds and app access: add and remove builds, remove an app with its groups and builds', async () => {
    const { group, req, tester, sim } = setup();
    const g = (await group({ name: 'Solo' })).json().data.id;
    const t = (await tester('d@example.com', [g])).json().data.id;
    const build = sim.store.list('builds')[0]!.id;
    const rel = (method: 'POST' | 'DELETE', what: string, type: string, id: string) =>
      req(method, `/v1/betaTesters/${t}/relationships/${what}`, { data: [{ type, id }] });
    expect((await rel('POST', 'builds', 'builds', build)).statusCode).toBe(204);
    expect((await req('GET', `/v1/betaTesters/${t}/builds`)).json().data.map((b: { id: string }) => b.id)).toEqual([
      build,
    ]);
    expect((await rel('DELETE', 'builds', 'builds', build)).statusCode).toBe(204);
    expect((await req('GET', `/v1/betaTesters/${t}/relationships/builds`)).json().data).toEqual([]);
    await rel('POST', 'builds', 'builds', build);
    expect((await rel('DELETE', 'apps', 'apps', '1000000001')).statusCode).toBe(204);
    const after = (await req('GET', `/v1/betaTesters/${t}?include=betaGroups,builds,apps`)).json().data.relationships;
    expect([after.betaGroups.data, after.builds.data, after.apps.data]).toEqual([[], [], []]);
  });
});
