import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock.js';
import { appleToken, signJwt } from '../test/helpers/jwt.js';
import { createSimulator } from './index.js';

const clock = new FakeClock(Date.UTC(2026, 5, 1));
const nowS = clock.now() / 1000;

function setup() {
  const sim = createSimulator({ clock });
  const key = sim.createKey({ role: 'APP_MANAGER' });
  const get = (auth: string | undefined) =>
    sim.app.inject({ method: 'GET', url: '/v1/apps', headers: auth === undefined ? {} : { authorization: auth } });
  return { sim, key, get };
}

describe('simulator: JWT rules as Apple checks them', () => {
  it('accepts a well-formed ES256 token', async () => {
    const { key, get } = setup();
    const res = await get(`Bearer ${appleToken(key, nowS)}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-rate-limit']).toBe('user-hour-lim:3600;user-hour-rem:3599;');
  });

  it("answers Apple's 401 NOT_AUTHORIZED body for each broken rule", async () => {
    const { sim, key, get } = setup();
    const other = sim.createKey();
    const individual = sim.createKey({ individual: true });
    const cases: Record<string, string | undefined> = {
      'no header': undefined,
      'not Bearer': `Basic ${appleToken(key, nowS)}`,
      'garbage token': 'Bearer abc.def',
      'DER signature': `Bearer ${signJwt(key.privateKeyPem, { alg: 'ES256', kid: key.keyId }, { iss: key.issuerId, iat: nowS, exp: nowS + 600, aud: 'appstoreconnect-v1' }, { der: true })}`,
      'signed by another key': `Bearer ${appleToken({ ...key, privateKeyPem: other.privateKeyPem }, nowS)}`,
      'unknown kid': `Bearer ${appleToken({ ...key, keyId: 'ZZZZZZZZZZ' }, nowS)}`,
      'alg HS256': `Bearer ${signJwt(key.privateKeyPem, { alg: 'HS256', kid: key.keyId }, { iss: key.issuerId, iat: nowS, exp: nowS + 600, aud: 'appstoreconnect-v1' })}`,
      'wrong iss': `Bearer ${appleToken(key, nowS, { iss: '00000000-0000-0000-0000-000000000000' })}`,
      'no iss on a team key': `Bearer ${appleToken(key, nowS, { iss: undefined })}`,
      'wrong aud': `Bearer ${appleToken(key, nowS, { aud: 'appstoreconnect-v2' })}`,
      'lifetime over 20 minutes': `Bearer ${appleToken(key, nowS, { exp: nowS + 1201 })}`,
      expired: `Bearer ${appleToken(key, nowS - 1300, {})}`,
      'issued in the future': `Bearer ${appleToken(key, nowS + 300)}`,
      'no iat and exp beyond 20 minutes': `Bearer ${appleToken(key, nowS, { iat: undefined, exp: nowS + 1300 })}`,
      'iat not a number': `Bearer ${appleToken(key, nowS, { iat: 'now' })}`,
      'individual key with iss': `Bearer ${appleToken({ ...individual, issuerId: key.issuerId }, nowS)}`,
      'individual key without sub': `Bearer ${appleToken(individual, nowS)}`,
    };
    for (const [name, auth] of Object.entries(cases)) {
      const res = await get(auth);
      expect(res.statusCode, name).toBe(401);
      const body = res.json();
      expect(body.errors[0], name).toMatchObject({
        status: '401',
        code: 'NOT_AUTHORIZED',
        title: 'Authentication credentials are missing or invalid.',
      });
      expect(body.errors[0].detail, name).toMatch(/properly configured and signed bearer token/);
    }
    // The individual key with sub "user" and no iss is fine.
    expect((await get(`Bearer ${appleToken(individual, nowS, { sub: 'user' })}`)).statusCode).toBe(200);
    // So is a token without `iat` that expires within 20 minutes, as widely used clients send them.
    expect((await get(`Bearer ${appleToken(key, nowS, { iat: undefined, exp: nowS + 1000 })}`)).statusCode).toBe(200);
  });

  it('refuses a revoked key', async () => {
    const { sim, key, get } = setup();
    const token = `Bearer ${appleToken(key, nowS)}`;
    expect((await get(token)).statusCode).toBe(200);
    sim.revokeKey(key.keyId);
    expect((await get(token)).statusCode).toBe(401);
  });

  it('tolerates a small clock skew but not a large one', async () => {
    const { key, get } = setup();
    expect((await get(`Bearer ${appleToken(key, nowS + 30)}`)).statusCode).toBe(200);
    expect((await get(`Bearer ${appleToken(key, nowS + 120)}`)).statusCode).toBe(401);
  });
});
