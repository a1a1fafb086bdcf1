import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import type { ApiKey } from '../../credentials/types.js';
import { createApiToken } from '../accounts/api-tokens.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { LoginLimiter } from '../accounts/login-limiter.js';
import { ArtifactFiles } from '../store/artifact-files.js';
import type { StoreDeps } from '../store/ids.js';
import { describeStores } from '../store/testing/dialects.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { buildApi } from './app.js';
import type { AppleGateway } from './context.js';

const p8 = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const ISSUER = '69a6de70-03db-47e3-e053-5b8c7c11a4d1';

/** A scripted App Store Connect: each test queues the answers it expects; anything else fails the test. */
class FakeApple implements AppleGateway {
  readonly calls: string[] = [];
  checks: (() => Promise<{ role: string | null }>)[] = [];
  numbers: string[][] = [];
  async checkKey(key: ApiKey) {
    this.calls.push(`check ${key.keyId}`);
    const next = this.checks.shift();
    if (!next) throw new Error(`unexpected checkKey(${key.keyId})`);
    return next();
  }
  async buildNumbersInUse(key: ApiKey, train: { appId: string; version: string }) {
    this.calls.push(`numbers ${key.keyId} ${train.appId} ${train.version}`);
    const next = this.numbers.shift();
    if (!next) throw new Error('unexpected buildNumbersInUse');
    return next;
  }
}

describeStores('HTTP API: keys and build numbers', (ctx) => {
  let app: FastifyInstance;
  const apple = new FakeApple();
  const deps: StoreDeps = { clock: new FakeClock(), randomBytes: (n) => randomBytes(n) };
  let owner: { authorization: string };
  let viewer: { authorization: string };
  const bodies: string[] = [];
  const pems: string[] = [];

  beforeAll(async () => {
    const store = ctx.store();
    app = buildApi({
      store,
      vault: new Vault(store, { current: masterKeyOf(randomBytes(32)) }, deps),
      deps,
      limiter: new LoginLimiter(deps.clock),
      secureCookies: false,
      queue: { name: 'sqlite', workers: () => 0 },
      apple,
      artifacts: {
        files: new ArtifactFiles('/nonexistent', (n) => randomBytes(n)),
        maxBytes: 0,
        inspect: () => Promise.reject(new Error('unexpected inspection')),
      },
    });
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    owner = { authorization: `Bearer ${first.apiToken}` };
    const v = await createApiToken(store, deps, first.team.id, { name: 'v', role: 'viewer' });
    viewer = { authorization: `Bearer ${v.token}` };
  });
  afterAll(async () => {
    await app.close();
    expect(apple.checks).toEqual([]);
    expect(apple.numbers).toEqual([]);
  });

  async function call(method: 'GET' | 'POST' | 'DELETE', url: string, headers: Record<string, string>, body?: object) {
    const res = await app.inject({ method, url, headers, ...(body ? { payload: body } : {}) });
    bodies.push(res.body);
    return res;
  }
  function newKey(name: string) {
    const privateKey = p8();
    pems.push(privateKey);
    return { name, keyId: 'ABCDE12345', issuerId: ISSUER, privateKey };
  }

  it('adds a key after Apple accepts it: metadata and fingerprint back, never the .p8', async () => {
    apple.checks.push(async () => ({ role: 'APP_MANAGER' }));
    const res = await call('POST', '/api/v1/keys', owner, newKey('CI key'));
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.stringMatching(/^key_/),
      name: 'CI key',
      keyId: 'ABCDE12345',
      issuerId: ISSUER,
      fingerprint: expect.stringMatching(/^SHA256:/),
      role: 'APP_MANAGER',
      createdAt: expect.any(String),
    });
    const list = await call('GET', '/api/v1/keys', viewer);
    expect(list.json().data.map((k: { name: string }) => k.name)).toEqual(['CI key']);
  });

  it('a bad .p8 is refused locally, before any request to Apple', async () => {
    const before = apple.calls.length;
    const res = await call('POST', '/api/v1/keys', owner, { ...newKey('bad'), privateKey: 'not a key' });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('KEY_NOT_PEM');
    const badId = await call('POST', '/api/v1/keys', owner, { ...newKey('bad'), keyId: 'abc' });
    expect(badId.json().error.code).toBe('KEY_ID_INVALID');
    expect(apple.calls.length).toBe(before);
  });

  it('a key Apple refuses is not stored, and the refusal keeps Apple’s code', async () => {
    apple.checks.push(() => Promise.reject(new AscendError('ASC_UNAUTHORIZED', 'Apple answered 401 NOT_AUTHORIZED')));
    const res = await call('POST', '/api/v1/keys', owner, newKey('revoked'));
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('ASC_UNAUTHORIZED');
    const names = (await call('GET', '/api/v1/keys', owner)).json().data.map((k: { name: string }) => k.name);
    expect(names).not.toContain('revoked');
    const secrets = await ctx.store().db.selectFrom('secrets').select('id').execute();
    expect(secrets).toHaveLength(1);
  });

  it('viewers cannot add keys; a duplicate name is a conflict', async () => {
    const denied = await call('POST', '/api/v1/keys', viewer, newKey('x'));
    expect(denied.statusCode).toBe(403);
    apple.checks.push(async () => ({ role: null }));
    const dup = await call('POST', '/api/v1/keys', owner, newKey('CI key'));
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('RESOURCE_EXISTS');
  });

  it('build numbers: the next free number above Apple’s, never handed out twice', async () => {
    apple.numbers.push(['41', '7'], ['41'], ['41']);
    const ask = () => call('POST', '/api/v1/apps/1234567890/build-numbers', owner, { version: '2.0' });
    const results = await Promise.all([ask(), ask(), ask()]);
    expect(results.map((r) => r.json().buildNumber).sort()).toEqual(['42', '43', '44']);
    expect(apple.calls.filter((c) => c.startsWith('numbers'))).toHaveLength(3);
    const bad = await call('POST', '/api/v1/apps/1/build-numbers', owner, { version: 'v2' });
    expect(bad.statusCode).toBe(400);
  });

  it('check re-asks Apple with the stored key; delete removes it', async () => {
    const [key] = (await call('GET', '/api/v1/keys', owner)).json().data;
    apple.checks.push(async () => ({ role: 'ADMIN' }));
    const checked = await call('POST', `/api/v1/keys/${key.id}/check`, owner);
    expect(checked.json().role).toBe('ADMIN');
    expect((await call('DELETE', `/api/v1/keys/${key.id}`, owner)).statusCode).toBe(204);
    expect((await call('GET', '/api/v1/keys', owner)).json().data).toEqual([]);
    expect((await call('DELETE', `/api/v1/keys/${key.id}`, owner)).statusCode).toBe(404);
  });

  it('no response ever carried a private key', () => {
    const all = bodies.join('\n');
    // The KEY_NOT_PEM remedy names the PEM header a .p8 starts with; a key body never follows it.
    expect(all).not.toMatch(/PRIVATE KEY-----\s*[A-Za-z0-9+/]{16}/);
    for (const pem of pems) {
      const line = pem.split('\n')[1]!;
      expect(all).not.toContain(line);
    }
  });
});
