import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { beforeEach, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import type { ApiKey } from '../../credentials/types.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
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
import type { AppleWebhook, AppleWebhooks } from './types.js';

const PUBLIC = 'https://ci.example.com';

/** App Store Connect's webhooks as a strict fake: apps it knows, every call recorded, anything else fails. */
class FakeAppleWebhooks implements AppleWebhooks {
  readonly calls: string[] = [];
  readonly byApp = new Map<string, (AppleWebhook & { secret: string })[]>();
  failUpdate = false;
  loseCreateAnswer = false;
  failDelete = false;
  private n = 0;
  constructor(apps: string[]) {
    for (const a of apps) this.byApp.set(a, []);
  }
  private app(id: string) {
    const l = this.byApp.get(id);
    if (!l) throw new Error(`unexpected app ${id}`);
    return l;
  }
  private find(id: string) {
    for (const [app, l] of this.byApp) {
      const w = l.find((x) => x.id === id);
      if (w) return { app, w };
    }
    throw new Error(`unexpected webhook ${id}`);
  }
  async list(_k: ApiKey, ascAppId: string) {
    this.calls.push(`list ${ascAppId}`);
    return this.app(ascAppId).map(({ secret: _s, ...w }) => ({ ...w, eventTypes: [...w.eventTypes] }));
  }
  async create(_k: ApiKey, w: Parameters<AppleWebhooks['create']>[1]) {
    this.calls.push(`create ${w.ascAppId}`);
    const made = { id: `wh-${++this.n}`, url: w.url, enabled: true, eventTypes: [...w.eventTypes], secret: w.secret };
    this.app(w.ascAppId).push(made);
    if (this.loseCreateAnswer) {
      this.loseCreateAnswer = false;
      throw new Error('connection reset');
    }
    return { id: made.id, url: made.url, enabled: true, eventTypes: made.eventTypes };
  }
  async update(_k: ApiKey, id: string, patch: Parameters<AppleWebhooks['update']>[2]) {
    this.calls.push(`update ${id} ${Object.keys(patch).sort().join(',')}`);
    if (this.failUpdate) throw new AscendError('ASC_FORBIDDEN', 'no');
    const { w } = this.find(id);
    if (patch.url) w.url = patch.url;
    if (patch.secret) w.secret = patch.secret;
    if (patch.enabled !== undefined) w.enabled = patch.enabled;
    if (patch.eventTypes) w.eventTypes = [...patch.eventTypes];
  }
  async delete(_k: ApiKey, id: string) {
    this.calls.push(`delete ${id}`);
    if (this.failDelete) throw new AscendError('ASC_UNAUTHORIZED', 'revoked');
    const { app, w } = this.find(id);
    this.byApp.set(
      app,
      this.app(app).filter((x) => x !== w),
    );
  }
  async readState(): Promise<string | null> {
    throw new Error('unexpected readState');
  }
}

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
