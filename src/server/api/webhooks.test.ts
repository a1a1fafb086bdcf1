import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { beforeAll, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { LoginLimiter } from '../accounts/login-limiter.js';
import { createTeam } from '../accounts/teams.js';
import { ArtifactFiles } from '../store/artifact-files.js';
import type { StoreDeps } from '../store/ids.js';
import { addKey } from '../store/keys.js';
import type { Store } from '../store/open.js';
import { describeStores } from '../store/testing/dialects.js';
import { bearerFor, type Headers, recordingCall } from '../store/testing/service.js';
import { listWebhooks } from '../store/webhooks.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { FakeAppleWebhooks } from '../webhooks/testing/fake-apple.js';
import { buildApi } from './app.js';
import type { ApiContext } from './context.js';

describeStores(
  'webhook routes: registered on apps sync, shown without secrets, rotated by admins, removed with the key',
  (ctx) => {
    let store: Store;
    let vault: Vault;
    let app: FastifyInstance;
    let plain: FastifyInstance;
    let teamId: string;
    let keyRef: string;
    let owner: Headers;
    let viewer: Headers;
    let stranger: Headers;
    const apple = new FakeAppleWebhooks(['1', '2']);
    const clock = new FakeClock();
    const deps: StoreDeps = { clock, randomBytes: (n) => randomBytes(n) };
    const bodies: string[] = [];
    const call = recordingCall(() => app, bodies);

    beforeAll(async () => {
      store = ctx.store();
      vault = new Vault(store, { current: masterKeyOf(randomBytes(32)) }, deps);
      teamId = (await ensureFirstAdmin(store, deps)).team.id;
      owner = await bearerFor(store, deps, teamId, 'owner');
      viewer = await bearerFor(store, deps, teamId, 'viewer');
      stranger = await bearerFor(store, deps, (await createTeam(store, deps, 'other')).id, 'owner');
      const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString();
      keyRef = (
        await addKey(store, vault, deps, teamId, {
          name: 'k',
          keyId: 'ABCDEFGHIJ',
          issuerId: '69a6de70-03db-47e3-e053-5b8c7c11a4d1',
          privateKey: pem,
        })
      ).id;
      const base: ApiContext = {
        store,
        vault,
        deps,
        limiter: new LoginLimiter(clock),
        secureCookies: false,
        queue: { name: 'test', workers: () => 0 },
        apple: {
          checkKey: () => Promise.reject(new Error('unexpected checkKey')),
          buildNumbersInUse: () => Promise.reject(new Error('unexpected buildNumbersInUse')),
          listApps: async () => [
            { ascAppId: '1', bundleId: 'com.example.one', name: 'One' },
            { ascAppId: '2', bundleId: 'com.example.two', name: 'Two' },
          ],
          webhooks: apple,
        },
        artifacts: {
          files: new ArtifactFiles('/nonexistent', (n) => randomBytes(n)),
          maxBytes: 0,
          inspect: () => Promise.reject(new Error('unexpected inspection')),
        },
      };
      app = buildApi({ ...base, webhookRegistration: { publicUrl: 'https://ci.example.com', graceMs: 60_000 } });
      plain = buildApi(base);
    });

    const appIdOf = async (asc: string) =>
      (await store.db.selectFrom('apps').select('id').where('asc_app_id', '=', asc).executeTakeFirstOrThrow()).id;

    it('registers a webhook per app when the apps are synced, and audits it', async () => {
      const res = await call('POST', '/api/v1/apps/sync', owner);
      expect(res.statusCode).toBe(200);
      expect(apple.byApp.get('1')).toHaveLength(1);
      expect(apple.byApp.get('2')).toHaveLength(1);
      const audit = await call('GET', '/api/v1/audit', owner);
      expect(audit.json().data.map((e: { action: string; outcome: string }) => `${e.action} ${e.outcome}`)).toContain(
        'webhooks.sync success',
      );
    });

    it('shows an app’s webhook to any member, without its secret', async () => {
      const id = await appIdOf('1');
      const res = await call('GET', `/api/v1/apps/${id}/webhook`, viewer);
      expect(res.statusCode).toBe(200);
      const w = res.json();
      expect(w).toMatchObject({ appId: id, registered: true, lastEventAt: null, previousSecretValidUntil: null });
      expect(w.url).toBe(`https://ci.example.com/hooks/apple/${w.id}`);
      expect(w.eventTypes).toEqual([
        'BUILD_UPLOAD_STATE_UPDATED',
        'BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED',
        'APP_STORE_VERSION_APP_VERSION_STATE_UPDATED',
      ]);
      expect(Object.keys(w).sort()).toEqual([
        'appId',
        'eventTypes',
        'id',
        'lastEventAt',
        'previousSecretValidUntil',
        'registered',
        'url',
      ]);
    });

    it('rotates the secret for admins only; the previous one stays valid for the grace period', async () => {
      const id = await appIdOf('1');
      const before = apple.byApp.get('1')![0]!.secret;
      const denied = await call('POST', `/api/v1/apps/${id}/webhook/rotate`, viewer);
      expect(denied.statusCode).toBe(403);
      expect(denied.json().error.code).toBe('PERMISSION_DENIED');
      const res = await call('POST', `/api/v1/apps/${id}/webhook/rotate`, owner);
      expect(res.statusCode).toBe(200);
      expect(res.json().previousSecretValidUntil).toBe(new Date(clock.now() + 60_000).toISOString());
      expect(apple.byApp.get('1')![0]!.secret).not.toBe(before);
      const shown = await call('GET', `/api/v1/apps/${id}/webhook`, owner);
      expect(shown.json().previousSecretValidUntil).toBe(res.json().previousSecretValidUntil);
      const audit = await call('GET', '/api/v1/audit', owner);
      expect(audit.json().data.map((e: { action: string; outcome: string }) => `${e.action} ${e.outcome}`)).toContain(
        'webhook.rotate success',
      );
    });

    it("answers 404 for another team's app", async () => {
      const id = await appIdOf('1');
      for (const [method, url] of [
        ['GET', `/api/v1/apps/${id}/webhook`],
        ['POST', `/api/v1/apps/${id}/webhook/rotate`],
      ] as const) {
        const res = await call(method, url, stranger);
        expect(res.statusCode).toBe(404);
        expect(res.json().error.code).toBe('RESOURCE_NOT_FOUND');
      }
    });

    it('without --public-url there is nothing to rotate (409), and an apps sync registers nothing', async () => {
      const id = await appIdOf('2');
      const res = await plain.inject({ method: 'POST', url: `/api/v1/apps/${id}/webhook/rotate`, headers: owner });
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('WEBHOOK_NOT_REGISTERED');
      apple.calls.length = 0;
      expect((await plain.inject({ method: 'POST', url: '/api/v1/apps/sync', headers: owner })).statusCode).toBe(200);
      expect(apple.calls).toEqual([]);
    });

    it('an apps sync still succeeds when Apple’s webhooks API fails; the failure is audited', async () => {
      apple.byApp.set('1', []);
      apple.loseCreateAnswer = true;
      const res = await call('POST', '/api/v1/apps/sync', owner);
      expect(res.statusCode).toBe(200);
      const audit = await call('GET', '/api/v1/audit', owner);
      expect(audit.json().data.map((e: { action: string; outcome: string }) => `${e.action} ${e.outcome}`)).toContain(
        'webhooks.sync failure',
      );
      // The next sync adopts what the lost answer created.
      expect((await call('POST', '/api/v1/apps/sync', owner)).statusCode).toBe(200);
      expect(apple.byApp.get('1')).toHaveLength(1);
    });

    it('removing the key deletes its webhooks at Apple and here', async () => {
      const res = await call('DELETE', `/api/v1/keys/${keyRef}`, owner);
      expect(res.statusCode).toBe(204);
      expect(apple.byApp.get('1')).toEqual([]);
      expect(apple.byApp.get('2')).toEqual([]);
      expect(await listWebhooks(store, teamId)).toEqual([]);
      expect(
        (await store.db.selectFrom('secrets').select('id').where('kind', '=', 'webhook-secret').execute()).length,
      ).toBe(0);
    });

    it('never returned a webhook secret', () => {
      const secrets = apple.secretsEverSet;
      expect(secrets.length).toBeGreaterThanOrEqual(3);
      for (const b of bodies) for (const s of secrets) expect(b).not.toContain(s);
    });
  },
);
