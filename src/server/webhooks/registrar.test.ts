import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { beforeEach, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { createTeam } from '../accounts/teams.js';
import { upsertApps } from '../store/apps.js';
import type { StoreDeps } from '../store/ids.js';
import { addKey } from '../store/keys.js';
import type { Store } from '../store/open.js';
import { describeStores } from '../store/testing/dialects.js';
import { listWebhooks } from '../store/webhooks.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { EVENT_TYPES } from './payload.js';
import { hookUrl, type RegistrarEnv, removeWebhooksOfKey, rotateWebhookSecret, syncWebhooks } from './registrar.js';
import { FakeAppleWebhooks } from './testing/fake-apple.js';

const PUBLIC = 'https://ci.example.com';

describeStores('webhook registration: one per app, kept in sync, rotated, removed', (ctx) => {
  let store: Store;
  let vault: Vault;
  let apple: FakeAppleWebhooks;
  let env: RegistrarEnv;
  let teamId: string;
  let keyRef: string;
  const clock = new FakeClock();
  const deps: StoreDeps = { clock, randomBytes: (n) => randomBytes(n) };
  const secretsHeld = async () =>
    (await store.db.selectFrom('secrets').select('id').where('kind', '=', 'webhook-secret').execute()).length;
  const rows = () => listWebhooks(store, teamId);

  beforeEach(async () => {
    store = ctx.store();
    await store.db.deleteFrom('teams').execute();
    await store.db.deleteFrom('users').execute();
    vault = new Vault(store, { current: masterKeyOf(randomBytes(32)) }, deps);
    teamId = (await ensureFirstAdmin(store, deps)).team.id;
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
    await upsertApps(store, deps, teamId, [
      { ascAppId: '1', bundleId: 'com.example.one', name: 'One', keyRef },
      { ascAppId: '2', bundleId: 'com.example.two', name: 'Two', keyRef },
    ]);
    apple = new FakeAppleWebhooks(['1', '2']);
    env = { store, vault, deps, apple, publicUrl: `${PUBLIC}/`, graceMs: 3_600_000 };
  });

  it('registers one webhook per app for the three events, at <public-url>/hooks/apple/<id>, with the secret the vault holds', async () => {
    expect(await syncWebhooks(env, teamId, keyRef, ['1', '2'])).toEqual({
      created: 2,
      recreated: 0,
      updated: 0,
      removed: 0,
    });
    const stored = await rows();
    expect(stored).toHaveLength(2);
    for (const row of stored) {
      const app = (
        await store.db.selectFrom('apps').select('asc_app_id').where('id', '=', row.appRef).executeTakeFirstOrThrow()
      ).asc_app_id;
      const [at] = apple.byApp.get(app)!;
      expect(at!.url).toBe(`${PUBLIC}/hooks/apple/${row.id}`);
      expect(row.url).toBe(hookUrl(PUBLIC, row.id));
      expect(at!.eventTypes.sort()).toEqual([...EVENT_TYPES].sort());
      expect(row.ascWebhookId).toBe(at!.id);
      expect((await vault.open(teamId, row.secretId)).toString()).toBe(at!.secret);
      expect(at!.secret.length).toBeGreaterThanOrEqual(43);
    }
    // A second sync finds everything in place: it only reads.
    apple.calls.length = 0;
    expect(await syncWebhooks(env, teamId, keyRef, ['1', '2'])).toEqual({
      created: 0,
      recreated: 0,
      updated: 0,
      removed: 0,
    });
    expect(apple.calls).toEqual(['list 1', 'list 2']);
  });

  it('re-creates a webhook deleted at Apple with the same secret, and repairs one disabled or changed there', async () => {
    await syncWebhooks(env, teamId, keyRef, ['1', '2']);
    const [one] = apple.byApp.get('1')!;
    const secret = one!.secret;
    apple.byApp.set('1', []);
    const [two] = apple.byApp.get('2')!;
    two!.enabled = false;
    two!.eventTypes = ['BUILD_UPLOAD_STATE_UPDATED'];
    expect(await syncWebhooks(env, teamId, keyRef, ['1', '2'])).toEqual({
      created: 0,
      recreated: 1,
      updated: 1,
      removed: 0,
    });
    expect(apple.byApp.get('1')![0]!.secret).toBe(secret);
    expect(apple.byApp.get('2')![0]).toMatchObject({ enabled: true });
    expect(apple.byApp.get('2')![0]!.eventTypes.sort()).toEqual([...EVENT_TYPES].sort());
    const row = (await rows()).find((r) => r.url.endsWith(r.id))!;
    expect([apple.byApp.get('1')![0]!.id, apple.byApp.get('2')![0]!.id]).toContain(row.ascWebhookId);
  });

  it('adopts the webhook whose create answer was lost (found by its URL) instead of making a second one', async () => {
    apple.loseCreateAnswer = true;
    await expect(syncWebhooks(env, teamId, keyRef, ['1'])).rejects.toThrow('connection reset');
    expect(apple.byApp.get('1')).toHaveLength(1);
    expect(await syncWebhooks(env, teamId, keyRef, ['1'])).toEqual({
      created: 0,
      recreated: 0,
      updated: 0,
      removed: 0,
    });
    expect(apple.byApp.get('1')).toHaveLength(1);
    const [row] = await rows();
    expect(row!.ascWebhookId).toBe(apple.byApp.get('1')![0]!.id);
  });

  it('deletes stray webhooks of ours for the app and leaves other people’s alone', async () => {
    apple.byApp
      .get('1')!
      .push(
        { id: 'old', url: `${PUBLIC}/hooks/apple/whk_gone`, enabled: true, eventTypes: [], secret: 's' },
        { id: 'theirs', url: 'https://elsewhere.example.com/hook', enabled: true, eventTypes: [], secret: 's' },
      );
    expect(await syncWebhooks(env, teamId, keyRef, ['1'])).toMatchObject({ created: 1, removed: 1 });
    expect(
      apple.byApp
        .get('1')!
        .map((w) => w.id)
        .sort(),
    ).toEqual(['theirs', 'wh-1']);
  });

  it('leaves the webhook of another team of this server alone, even for the same Apple app', async () => {
    // Team B holds a key for the same Apple app and registered its own webhook first.
    const teamB = await createTeam(store, deps, 'B');
    const keyB = await addKey(store, vault, deps, teamB.id, {
      name: 'kb',
      keyId: 'BBBBBBBBBB',
      issuerId: '69a6de70-03db-47e3-e053-5b8c7c11a4d1',
      privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString(),
    });
    await upsertApps(store, deps, teamB.id, [
      { ascAppId: '1', bundleId: 'com.example.one', name: 'One', keyRef: keyB.id },
    ]);
    expect(await syncWebhooks(env, teamB.id, keyB.id, ['1'])).toMatchObject({ created: 1, removed: 0 });
    const [theirs] = await listWebhooks(store, teamB.id);
    // Team A's sync makes its own and keeps team B's; team B's next sync keeps team A's.
    expect(await syncWebhooks(env, teamId, keyRef, ['1'])).toMatchObject({ created: 1, removed: 0 });
    expect(await syncWebhooks(env, teamB.id, keyB.id, ['1'])).toMatchObject({ created: 0, removed: 0 });
    const urls = apple.byApp.get('1')!.map((w) => w.url);
    expect(urls).toHaveLength(2);
    expect(urls).toContain(theirs!.url);
  });

  it('follows a new --public-url: the webhook at Apple and the row point at the new address', async () => {
    await syncWebhooks(env, teamId, keyRef, ['1']);
    const moved = { ...env, publicUrl: 'https://new.example.com' };
    expect(await syncWebhooks(moved, teamId, keyRef, ['1'])).toMatchObject({ updated: 1, created: 0 });
    const [row] = await rows();
    expect(row!.url).toBe(`https://new.example.com/hooks/apple/${row!.id}`);
    expect(apple.byApp.get('1')![0]!.url).toBe(row!.url);
  });

  it('removes the webhook of an app Apple no longer lists for the key, at Apple and here, with its secret', async () => {
    await syncWebhooks(env, teamId, keyRef, ['1', '2']);
    expect(await secretsHeld()).toBe(2);
    expect(await syncWebhooks(env, teamId, keyRef, ['1'])).toMatchObject({ removed: 1 });
    expect(apple.byApp.get('2')).toEqual([]);
    expect(await rows()).toHaveLength(1);
    expect(await secretsHeld()).toBe(1);
  });

  it('removes every webhook of a key before the key goes, also when Apple refuses the key', async () => {
    await syncWebhooks(env, teamId, keyRef, ['1', '2']);
    apple.failDelete = true;
    expect(await removeWebhooksOfKey(env, teamId, keyRef)).toEqual({ removed: 2, failedAtApple: 2 });
    expect(await rows()).toEqual([]);
    expect(await secretsHeld()).toBe(0);
    expect(apple.byApp.get('1')!.map((w) => w.id)).toEqual(['wh-1']); // the refused one stays at Apple
    // A later sync with a working key deletes what was left at Apple as a stray of ours.
    apple.failDelete = false;
    expect(await syncWebhooks(env, teamId, keyRef, ['1'])).toMatchObject({ created: 1, removed: 1 });
    expect(await removeWebhooksOfKey(env, teamId, keyRef)).toEqual({ removed: 1, failedAtApple: 0 });
    expect(apple.byApp.get('1')).toEqual([]);
  });

  it('rotates the secret at Apple, keeping the previous one for the grace period; a refusal changes nothing', async () => {
    await syncWebhooks(env, teamId, keyRef, ['1']);
    const [before] = await rows();
    const old = apple.byApp.get('1')![0]!.secret;
    const r = await rotateWebhookSecret(env, teamId, before!.appRef);
    expect(r.previousValidUntil).toBe(clock.now() + 3_600_000);
    const [after] = await rows();
    const now = apple.byApp.get('1')![0]!.secret;
    expect(now).not.toBe(old);
    expect((await vault.open(teamId, after!.secretId)).toString()).toBe(now);
    expect((await vault.open(teamId, after!.previousSecretId!)).toString()).toBe(old);
    expect(after!.previousUntil).toBe(r.previousValidUntil);
    // A second rotation drops the oldest secret: two are held at most.
    await rotateWebhookSecret(env, teamId, before!.appRef);
    expect(await secretsHeld()).toBe(2);
    apple.failUpdate = true;
    const [held] = await rows();
    await expect(rotateWebhookSecret(env, teamId, before!.appRef)).rejects.toMatchObject({ code: 'ASC_FORBIDDEN' });
    expect(await rows()).toEqual([held]);
    expect(await secretsHeld()).toBe(2);
  });

  it('refuses to rotate a webhook not registered at Apple', async () => {
    apple.loseCreateAnswer = true;
    await syncWebhooks(env, teamId, keyRef, ['1']).catch(() => {});
    const [row] = await rows();
    await expect(rotateWebhookSecret(env, teamId, row!.appRef)).rejects.toMatchObject({
      code: 'WEBHOOK_NOT_REGISTERED',
    });
  });
});
