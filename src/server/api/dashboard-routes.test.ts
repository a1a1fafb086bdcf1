import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import type { ApiKey } from '../../credentials/types.js';
import { createApiToken } from '../accounts/api-tokens.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { LoginLimiter } from '../accounts/login-limiter.js';
import { createTeam } from '../accounts/teams.js';
import { upsertApps } from '../store/apps.js';
import { ArtifactFiles } from '../store/artifact-files.js';
import type { StoreDeps } from '../store/ids.js';
import { addKey } from '../store/keys.js';
import { describeStores } from '../store/testing/dialects.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { buildApi } from './app.js';
import type { AppleGateway } from './context.js';

const ISSUER = '69a6de70-03db-47e3-e053-5b8c7c11a4d1';
const pem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

/** Apple for the groups route only: each call must be one the test queued. */
class GroupsApple implements AppleGateway {
  readonly calls: string[] = [];
  async checkKey(): Promise<never> {
    throw new Error('unexpected checkKey');
  }
  async buildNumbersInUse(): Promise<never> {
    throw new Error('unexpected buildNumbersInUse');
  }
  async listGroups(key: ApiKey, appId: string) {
    this.calls.push(`groups ${key.keyId} ${appId}`);
    return [
      { id: 'g1', name: 'Internal Testers', isInternalGroup: true },
      { id: 'g2', name: 'External Testers', isInternalGroup: false },
    ];
  }
}

describeStores('HTTP API: members, TestFlight groups and the sandbox route (for the dashboard)', (ctx) => {
  let app: FastifyInstance;
  let sandboxApp: FastifyInstance;
  const apple = new GroupsApple();
  const deps: StoreDeps = { clock: new FakeClock(), randomBytes: (n) => randomBytes(n) };
  const sandboxDir = mkdtempSync(join(tmpdir(), 'ascend-sandbox-route-'));
  const bodies: string[] = [];
  let owner: { authorization: string };
  let admin: { authorization: string };
  let viewer: { authorization: string };
  let other: { authorization: string };
  let appId: string;

  beforeAll(async () => {
    const store = ctx.store();
    const vault = new Vault(store, { current: masterKeyOf(randomBytes(32)) }, deps);
    const base = {
      store,
      vault,
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
    };
    app = buildApi(base);
    sandboxApp = buildApi({ ...base, sandbox: { dir: sandboxDir } });
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    owner = { authorization: `Bearer ${first.apiToken}` };
    const a = await createApiToken(store, deps, first.team.id, { name: 'a', role: 'admin' });
    admin = { authorization: `Bearer ${a.token}` };
    const v = await createApiToken(store, deps, first.team.id, { name: 'v', role: 'viewer' });
    viewer = { authorization: `Bearer ${v.token}` };
    const team2 = await createTeam(store, deps, 'Other');
    const o = await createApiToken(store, deps, team2.id, { name: 'o', role: 'owner' });
    other = { authorization: `Bearer ${o.token}` };
    const key = await addKey(store, vault, deps, first.team.id, {
      name: 'CI',
      keyId: 'ABCDE12345',
      issuerId: ISSUER,
      privateKey: pem(),
      role: 'APP_MANAGER',
    });
    await upsertApps(store, deps, first.team.id, [
      { ascAppId: '1000000001', bundleId: 'com.example.one', name: 'One', keyRef: key.id },
    ]);
    appId = '1000000001';
    writeFileSync(join(sandboxDir, 'AuthKey_SANDBOX123.p8'), pem());
    writeFileSync(
      join(sandboxDir, 'key.json'),
      JSON.stringify({ key_id: 'SANDBOX123', issuer_id: ISSUER, key: 'the key', in_house: false }),
    );
  });
  afterAll(async () => {
    await app.close();
    await sandboxApp.close();
    rmSync(sandboxDir, { recursive: true, force: true });
  });

  async function call(
    server: FastifyInstance,
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string>,
    body?: object,
  ) {
    const res = await server.inject({ method, url, headers, ...(body ? { payload: body } : {}) });
    bodies.push(res.body);
    return res;
  }

  it('lists an app’s TestFlight groups from Apple with the key that sees it; another team’s app is a 404', async () => {
    const res = await call(app, 'GET', `/api/v1/apps/${appId}/groups`, viewer);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      data: [
        { id: 'g1', name: 'Internal Testers', isInternalGroup: true },
        { id: 'g2', name: 'External Testers', isInternalGroup: false },
      ],
      next: null,
    });
    expect(apple.calls).toEqual(['groups ABCDE12345 1000000001']);
    const elsewhere = await call(app, 'GET', `/api/v1/apps/${appId}/groups`, other);
    expect(elsewhere.statusCode).toBe(404);
    expect(elsewhere.json().error.code).toBe('RESOURCE_NOT_FOUND');
    expect(apple.calls).toHaveLength(1);
  });

  it('adds a member with a one-time sign-in link shown once; the link signs the person in once', async () => {
    const res = await call(app, 'POST', '/api/v1/members', admin, {
      email: 'Second@Example.com',
      name: 'Second',
      role: 'admin',
    });
    expect(res.statusCode).toBe(201);
    const added = res.json();
    expect(added.member).toEqual({
      id: expect.stringMatching(/^usr_/),
      email: 'second@example.com',
      name: 'Second',
      role: 'admin',
      disabled: false,
    });
    expect(added.signInPath).toMatch(/^\/sign-in\/ascl_\S+$/);
    const list = await call(app, 'GET', '/api/v1/members', viewer);
    expect(list.json().data.map((m: { email: string; role: string }) => `${m.email} ${m.role}`)).toContain(
      'second@example.com admin',
    );
    // The link is a secret: the list never shows it.
    expect(list.body).not.toContain(added.signInPath.slice('/sign-in/'.length));
    const signIn = await app.inject({ method: 'GET', url: added.signInPath });
    expect(signIn.statusCode).toBe(303);
    expect((await app.inject({ method: 'GET', url: added.signInPath })).statusCode).toBe(401);
    // Another team does not see the member.
    const theirs = await call(app, 'GET', '/api/v1/members', other);
    expect(theirs.json().data.map((m: { email: string }) => m.email)).not.toContain('second@example.com');
  });

  it('adding a person who already has an account gives no sign-in link: an admin cannot sign in as them', async () => {
    // Another team's owner adds someone; then this team's admin adds the same address.
    const there = await call(app, 'POST', '/api/v1/members', other, { email: 'boss@elsewhere.example', role: 'owner' });
    expect(there.statusCode).toBe(201);
    expect(there.json().signInPath).toMatch(/^\/sign-in\/ascl_/);
    const here = await call(app, 'POST', '/api/v1/members', admin, { email: 'boss@elsewhere.example', role: 'viewer' });
    expect(here.statusCode).toBe(201);
    expect(here.json()).toMatchObject({
      member: { email: 'boss@elsewhere.example', role: 'viewer' },
      signInPath: null,
    });
    expect(here.json().expiresAt).toBeNull();
  });

  it('refuses a viewer, a role above the adder’s own, and demoting an owner', async () => {
    const byViewer = await call(app, 'POST', '/api/v1/members', viewer, { email: 'x@example.com', role: 'viewer' });
    expect(byViewer.statusCode).toBe(403);
    expect(byViewer.json().error.code).toBe('PERMISSION_DENIED');
    const above = await call(app, 'POST', '/api/v1/members', admin, { email: 'y@example.com', role: 'owner' });
    expect(above.statusCode).toBe(403);
    const members = (await call(app, 'GET', '/api/v1/members', owner)).json().data as { email: string; role: string }[];
    const theOwner = members.find((m) => m.role === 'owner')!;
    const demote = await call(app, 'POST', '/api/v1/members', admin, { email: theOwner.email, role: 'viewer' });
    expect(demote.statusCode).toBe(403);
    const bad = await call(app, 'POST', '/api/v1/members', owner, { email: 'not an address', role: 'viewer' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('USAGE');
  });

  it('GET /api/v1/sandbox: where the second key is, never its content; not found outside sandbox mode', async () => {
    const res = await call(sandboxApp, 'GET', '/api/v1/sandbox', viewer);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      dir: sandboxDir,
      keyFile: join(sandboxDir, 'AuthKey_SANDBOX123.p8'),
      keyId: 'SANDBOX123',
      issuerId: ISSUER,
      sampleIpa: join(sandboxDir, 'Sample.ipa'),
    });
    expect(res.body).not.toContain('PRIVATE KEY');
    expect(res.body).not.toContain('the key');
    expect((await call(app, 'GET', '/api/v1/sandbox', viewer)).statusCode).toBe(404);
    expect((await sandboxApp.inject({ method: 'GET', url: '/api/v1/sandbox' })).statusCode).toBe(401);
  });

  it('no answer carried a private key', () => {
    for (const b of bodies) expect(b).not.toMatch(/BEGIN PRIVATE KEY/);
  });
});
