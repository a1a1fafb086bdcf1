import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { appleToken } from '../../test/helpers/jwt.js';
import { createSimulator } from '../index.js';
import { DEFAULT_SEED } from '../seed.js';

const DAY_S = 86_400;
const START = Date.UTC(2026, 5, 1);

function setup(simNow?: string) {
  const clock = new FakeClock(START);
  const sim = createSimulator({
    clock,
    simNow,
    seed: {
      ...DEFAULT_SEED,
      builds: [{ app: 'com.example.sandbox.one', version: '2.0.0', buildNumber: '9' }],
    },
  });
  const key = sim.createKey({ role: 'APP_MANAGER' });
  const token = () => `Bearer ${appleToken(key, Math.floor(clock.now() / 1000))}`;
  const api = (url: string) => sim.app.inject({ method: 'GET', url, headers: { authorization: token() } });
  const admin = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) =>
    sim.app.inject({
      method,
      url,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { sim, key, clock, api, admin };
}

describe('simulator health: the resource clock', () => {
  it('--clock sets "now" for resources while tokens minted on the real clock still pass', async () => {
    const { api, admin } = setup('2030-03-01T00:00:00Z');
    expect((await admin('GET', '/__sim/clock')).json()).toEqual({ now: '2030-03-01T00:00:00.000Z' });
    const res = await api('/v1/apps');
    expect(res.statusCode).toBe(200);
    expect(res.headers.date).toBe('Fri, 01 Mar 2030 00:00:00 GMT');
  });

  it('POST /__sim/clock sets or advances the clock, and refuses bad bodies with a 400', async () => {
    const { admin } = setup();
    const set = await admin('POST', '/__sim/clock', { now: '2027-01-31T12:00:00Z' });
    expect(set.json()).toEqual({ now: '2027-01-31T12:00:00.000Z' });
    const adv = await admin('POST', '/__sim/clock', { advanceSeconds: DAY_S });
    expect(adv.json()).toEqual({ now: '2027-02-01T12:00:00.000Z' });
    for (const bad of [{ now: 'tomorrow' }, { advanceSeconds: -5 }, { later: 1 }, 'not json']) {
      const r = await admin('POST', '/__sim/clock', bad);
      expect(r.statusCode, JSON.stringify(bad)).toBe(400);
      expect(r.json().errors[0].status).toBe('400');
    }
    expect((await admin('GET', '/__sim/clock')).json()).toEqual({ now: '2027-02-01T12:00:00.000Z' });
  });

  it('a build turns expired when the clock passes its expirationDate (90 days after upload)', async () => {
    const { api, admin } = setup();
    const read = async () =>
      (await api('/v1/builds?filter[app]=1000000001&filter[version]=9')).json().data[0].attributes as {
        expired: boolean;
        expirationDate: string;
      };
    const before = await read();
    expect(before.expired).toBe(false);
    expect(Date.parse(before.expirationDate)).toBe(START + 90 * DAY_S * 1000);
    await admin('POST', '/__sim/clock', { advanceSeconds: 90 * DAY_S - 1 });
    expect((await read()).expired).toBe(false);
    await admin('POST', '/__sim/clock', { advanceSeconds: 1 });
    expect((await read()).expired).toBe(true);
    const live = await api('/v1/builds?filter[app]=1000000001&filter[expired]=false&filter[version]=9');
    expect(live.json().data).toEqual([]);
  });
});

describe('simulator health: expiry without side effects on reads', () => {
  it('a build seeded more than 90 days back is expired from the start, and reading it changes nothing', async () => {
    const clock = new FakeClock(START);
    const sim = createSimulator({
      clock,
      seed: {
        ...DEFAULT_SEED,
        builds: [
          { app: 'com.example.sandbox.one', version: '1.0.0', buildNumber: '1', uploadedDate: '2026-01-05T10:00:00Z' },
        ],
      },
    });
    const key = sim.createKey();
    const before = JSON.stringify(sim.store.snapshot());
    expect(sim.store.list('builds')[0]!.attributes.expired).toBe(true);
    const res = await sim.app.inject({
      method: 'GET',
      url: '/v1/builds?filter[app]=1000000001',
      headers: { authorization: `Bearer ${appleToken(key, Math.floor(clock.now() / 1000))}` },
    });
    expect(res.json().data[0].attributes.expired).toBe(true);
    expect(JSON.stringify(sim.store.snapshot())).toBe(before);
  });
});

describe('simulator health: agreements', () => {
  it('an expired agreement makes every request of the team answer Apple’s 403 until it is active again', async () => {
    const { api, admin } = setup();
    const set = await admin('POST', '/__sim/agreements', { teamId: 'SANDBOXTM1', state: 'expired' });
    expect(set.json()).toEqual({ teamId: 'SANDBOXTM1', state: 'expired', expiresAt: null });
    for (const path of ['/v1/apps', '/v1/certificates', '/v1/builds?filter[app]=1000000001']) {
      const r = await api(path);
      expect(r.statusCode).toBe(403);
      expect(r.json().errors[0]).toMatchObject({
        status: '403',
        code: 'FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED',
      });
    }
    await admin('POST', '/__sim/agreements', { issuerId: DEFAULT_SEED.teams[0]!.issuerId, state: 'active' });
    expect((await api('/v1/apps')).statusCode).toBe(200);
  });

  it('an agreement with an expiry date lapses exactly when the clock reaches it', async () => {
    const { api, admin } = setup();
    const at = new Date(START + 10 * DAY_S * 1000).toISOString();
    await admin('POST', '/__sim/agreements', { teamId: 'SANDBOXTM1', state: 'active', expiresAt: at });
    await admin('POST', '/__sim/clock', { advanceSeconds: 10 * DAY_S - 1 });
    expect((await api('/v1/apps')).statusCode).toBe(200);
    await admin('POST', '/__sim/clock', { advanceSeconds: 1 });
    expect((await api('/v1/apps')).statusCode).toBe(403);
    expect((await admin('GET', '/__sim/agreements')).json().agreements).toEqual([
      { teamId: 'SANDBOXTM1', state: 'expired', expiresAt: null },
    ]);
  });

  it('refuses an unknown team (404) and a malformed body (400)', async () => {
    const { admin } = setup();
    expect((await admin('POST', '/__sim/agreements', { teamId: 'NOPE', state: 'expired' })).statusCode).toBe(404);
    for (const bad of [
      { state: 'expired' },
      { teamId: 'SANDBOXTM1', state: 'sleepy' },
      { teamId: 'SANDBOXTM1', state: 'expired', expiresAt: '2027-01-01T00:00:00Z' },
      { teamId: 'SANDBOXTM1', state: 'active', expiresAt: 'soon' },
    ]) {
      expect((await admin('POST', '/__sim/agreements', bad)).statusCode, JSON.stringify(bad)).toBe(400);
    }
  });
});

describe('simulator health: keys', () => {
  it('a revoked key and a deleted key are refused with Apple’s 401; an unknown key id is a 404', async () => {
    const { sim, key, api, admin } = setup();
    const other = sim.createKey({ role: 'APP_MANAGER' });
    expect((await api('/v1/apps')).statusCode).toBe(200);
    const rev = await admin('POST', `/__sim/keys/${key.keyId}/revoke`);
    expect(rev.json()).toEqual({ keyId: key.keyId, revoked: true });
    const refused = await api('/v1/apps');
    expect(refused.statusCode).toBe(401);
    expect(refused.json().errors[0].code).toBe('NOT_AUTHORIZED');
    expect((await admin('DELETE', `/__sim/keys/${other.keyId}`)).statusCode).toBe(204);
    expect(sim.store.keys.has(other.keyId)).toBe(false);
    expect((await admin('DELETE', `/__sim/keys/${other.keyId}`)).statusCode).toBe(404);
    expect((await admin('POST', '/__sim/keys/NOSUCHKEY1/revoke')).statusCode).toBe(404);
  });
});
