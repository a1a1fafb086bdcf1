import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../simulator/index.js';
import { DEFAULT_SEED, type SeedInput } from '../../simulator/seed.js';
import { type AscClient, createAscClient } from '../asc/http/client.js';
import type { FetchLike } from '../asc/http/transport.js';
import { FakeClock } from '../core/clock.js';
import { AscendError } from '../core/errors.js';
import { apiKeyOf } from '../credentials/key.js';
import { createTokenProvider } from '../credentials/token.js';
import { makeCsr, newRsaKey } from './crypto.js';
import { ensureSigning } from './ensure.js';
import { SigningKeyStore } from './key-store.js';
import { listSigning, revokeSigning } from './list.js';
import { profileNameFor } from './profile.js';

const DAY = 86_400_000;
const APP = 'com.example.sandbox.one';
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

interface Env {
  sim: Simulator;
  clock: FakeClock;
  client: AscClient;
  keys: SigningKeyStore;
  home: string;
  writes: () => string[];
  run: (over?: Partial<Parameters<typeof ensureSigning>[0]>) => ReturnType<typeof ensureSigning>;
}

/** A simulator on a fake clock that starts at the real time (tokens are minted on the same clock). */
async function setup(
  opts: { seed?: SeedInput; role?: string; fetch?: (inner: FetchLike) => FetchLike } = {},
): Promise<Env> {
  const clock = new FakeClock(Date.now());
  const sim = createSimulator({ clock, seed: opts.seed });
  await sim.listen();
  const home = mkdtempSync(join(tmpdir(), 'ascend-signing-'));
  cleanup.push(
    () => sim.close(),
    () => rmSync(home, { recursive: true, force: true }),
  );
  const key = sim.createKey({ role: opts.role ?? 'APP_MANAGER' });
  const baseFetch: FetchLike = (u, i) => fetch(u, i);
  const client = createAscClient({
    baseUrl: sim.url,
    tokens: createTokenProvider(apiKeyOf(key, 'test'), { clock }),
    clock,
    sleep: clock.sleep,
    fetch: opts.fetch ? opts.fetch(baseFetch) : baseFetch,
  });
  const keys = new SigningKeyStore(join(home, 'ascend'));
  const writes = () =>
    [...sim.stats.entries()].filter(([k]) => !k.startsWith('GET')).flatMap(([k, n]) => Array(n).fill(k) as string[]);
  const run: Env['run'] = (over = {}) =>
    ensureSigning({
      client,
      keys,
      clock,
      bundleIdentifier: APP,
      renewWithinDays: 30,
      onWarning: () => {},
      ...over,
    });
  return { sim, clock, client, keys, home, writes, run };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AscendError) return `${err.code}: ${err.message} — ${err.remedy}`;
    throw err;
  }
  throw new Error('expected an error');
}

describe('signing ensure against the simulator', () => {
  it('registers the bundle ID, makes a certificate and profile, and a second run changes nothing', async () => {
    const env = await setup();
    const first = await env.run();
    expect(first.bundleId.created && first.certificate.created && first.profile.created).toBe(true);
    expect(env.writes().sort()).toEqual(['POST /v1/bundleIds', 'POST /v1/certificates', 'POST /v1/profiles']);
    const cert = new X509Certificate(Buffer.from(first.held.certificateContent, 'base64'));
    expect(
      cert.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(first.held.privateKeyPem))),
    ).toBe(true);
    expect(first.profile.name).toBe(profileNameFor(APP));
    // The key is owner-only on disk and never reached "Apple".
    const file = join(env.home, 'ascend', 'signing', 'certificates', `${first.certificate.id}.json`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(env.home, 'ascend', 'signing')).mode & 0o777).toBe(0o700);
    const keyBody = first.held.privateKeyPem.split('\n')[5]!;
    expect(JSON.stringify(env.sim.store.snapshot())).not.toContain(keyBody);

    const before = env.writes().length;
    const second = await env.run();
    expect(env.writes().length).toBe(before);
    expect(second.changes).toEqual([]);
    expect(second.certificate.id).toBe(first.certificate.id);
    expect(second.profile.id).toBe(first.profile.id);
    expect(second.bundleId.created || second.certificate.created || second.profile.created).toBe(false);
  });

  it('renews a certificate and profile that expire within the window, by the clock', async () => {
    const env = await setup();
    const first = await env.run();
    env.clock.advance(340 * DAY); // 25 days before the one-year certificate expires
    const second = await env.run({ renewWithinDays: 20 });
    expect(second.changes).toEqual([]);
    const renewed = await env.run({ renewWithinDays: 30 });
    expect(renewed.certificate.id).not.toBe(first.certificate.id);
    expect(renewed.profile.id).not.toBe(first.profile.id);
    expect(renewed.changes).toEqual([
      `created certificate ${renewed.certificate.id}`,
      `deleted stale profile ${first.profile.id}`,
      `created profile ${renewed.profile.id}`,
    ]);
  });

  it('replaces a certificate revoked elsewhere and the profile it invalidated', async () => {
    const env = await setup();
    const first = await env.run();
    await revokeSigning(env.client, new SigningKeyStore(join(env.home, 'elsewhere')), first.certificate.id);
    const next = await env.run();
    expect(next.revokedHeld).toEqual([first.certificate.id]);
    expect(next.certificate.created && next.profile.created).toBe(true);
    expect(next.bundleId.created).toBe(false);
    const inv = await listSigning(env.client, env.keys);
    expect(inv.certificates.map((c) => c.id)).toEqual([next.certificate.id]);
    expect(inv.certificates[0]!.keyHeld).toBe(true);
    expect(inv.profiles.map((p) => [p.id, p.profileState])).toEqual([[next.profile.id, 'ACTIVE']]);
  });

  it('at the certificate limit names the certificates in use and how to revoke one; nothing is created', async () => {
    const env = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await env.client.request<{ data: { id: string } }>({
        method: 'POST',
        path: '/v1/certificates',
        body: {
          data: {
            type: 'certificates',
            attributes: { certificateType: 'DISTRIBUTION', csrContent: makeCsr(newRsaKey(), 'other') },
          },
        },
      });
      ids.push(r.body.data.id);
    }
    const msg = await codeOf(env.run());
    expect(msg).toMatch(/^SIGNING_CERTIFICATE_LIMIT: /);
    for (const id of ids) expect(msg).toContain(id);
    expect(msg).toContain('ascend signing revoke');
    expect(env.sim.store.list('certificates')).toHaveLength(3);
    expect(env.sim.store.list('profiles')).toHaveLength(0);
    expect(env.sim.store.list('bundleIds')).toHaveLength(0);
  });

  it('an unwritable key store stops before any certificate is asked for; a key that cannot be kept after is revoked', async () => {
    const env = await setup();
    const blocked = join(env.home, 'not-a-folder');
    writeFileSync(blocked, 'x');
    const msg = await codeOf(env.run({ keys: new SigningKeyStore(blocked) }));
    expect(msg).toMatch(/^SIGNING_KEY_NOT_SAVED: .*no certificate was created/);
    expect(env.writes()).toEqual([]);
    // The pending key was saved, the certificate's own entry cannot be: the certificate is revoked again.
    class FullStore extends SigningKeyStore {
      override async save(): Promise<void> {
        throw new Error('ENOSPC: no space left on device');
      }
    }
    const full = new FullStore(join(env.home, 'full'));
    expect(await codeOf(env.run({ keys: full }))).toMatch(/^SIGNING_KEY_NOT_SAVED: .*revoked again/);
    expect(env.sim.stats.get('DELETE /v1/certificates/{id}')).toBe(1);
    expect(env.sim.store.list('certificates')).toHaveLength(0);
    expect(await full.pending()).toEqual([]);
  });

  it('killed right after Apple issued the certificate: the next run keeps it with the key saved before the create', async () => {
    let kill = true;
    const env = await setup({
      fetch: (inner) => async (u, i) => {
        const res = await inner(u, i);
        if (kill && i.method === 'POST' && u.endsWith('/v1/certificates')) throw new Error('killed');
        return res;
      },
    });
    await expect(env.run()).rejects.toThrow('killed');
    const [cert] = env.sim.store.list('certificates');
    expect(env.sim.store.list('certificates')).toHaveLength(1);
    expect(await env.keys.ids()).toEqual([]);
    const [pending] = await env.keys.pending();
    expect(pending?.spki).toBe(
      new X509Certificate(Buffer.from(String(cert!.attributes.certificateContent), 'base64')).publicKey
        .export({ format: 'der', type: 'spki' })
        .toString('base64'),
    );
    expect(statSync(join(env.home, 'ascend', 'signing', 'pending')).mode & 0o777).toBe(0o700);
    kill = false;
    const r = await env.run();
    expect(r.certificate).toMatchObject({ id: cert!.id, created: false });
    expect(env.sim.stats.get('POST /v1/certificates')).toBe(1);
    expect(await env.keys.ids()).toEqual([cert!.id]);
    expect((await env.keys.get(cert!.id))?.privateKeyPem).toBe(pending!.privateKeyPem);
    expect(await env.keys.pending()).toEqual([]);
  });

  it('a pending key whose create never reached Apple is dropped once stale; a young one is left alone', async () => {
    let refuse = true;
    const env = await setup({
      fetch: (inner) => async (u, i) => {
        if (refuse && i.method === 'POST' && u.endsWith('/v1/certificates')) throw new Error('killed before sending');
        return inner(u, i);
      },
    });
    await expect(env.run()).rejects.toThrow('killed before sending');
    const [lost] = await env.keys.pending();
    expect(lost).toBeDefined();
    refuse = false;
    await env.run();
    // Younger than ten minutes: another run may still be creating its certificate, so its key stays.
    expect((await env.keys.pending()).map((p) => p.spki)).toEqual([lost!.spki]);
    env.clock.advance(11 * 60_000);
    await env.run();
    expect(await env.keys.pending()).toEqual([]);
    expect(env.sim.stats.get('POST /v1/certificates')).toBe(1);
  });

  it('refuses to touch a profile of its name that belongs to another bundle ID', async () => {
    const env = await setup();
    await env.run({ bundleIdentifier: 'com.example.sandbox.two' });
    const other = env.sim.store.list('profiles')[0]!;
    other.attributes.name = profileNameFor(APP);
    const msg = await codeOf(env.run());
    expect(msg).toMatch(/^SIGNING_PROFILE_MISMATCH: .*belongs to another bundle ID/);
    expect(env.sim.store.get('profiles', other.id)).toBeDefined();
    expect(env.sim.stats.get('DELETE /v1/profiles/{id}')).toBeUndefined();
  });

  it('does not reuse a profile whose content names another bundle ID', async () => {
    const env = await setup();
    const a = await env.run();
    const b = await env.run({ bundleIdentifier: 'com.example.sandbox.two' });
    // The profile listed for app one now carries app two's content: it must not be reused.
    const recA = env.sim.store.get('profiles', a.profile.id)!;
    recA.attributes.profileContent = env.sim.store.get('profiles', b.profile.id)!.attributes.profileContent;
    const again = await env.run();
    expect(again.profile.created).toBe(true);
    expect(again.changes).toEqual([`deleted stale profile ${a.profile.id}`, `created profile ${again.profile.id}`]);
  });

  it('settles a certificate create whose answer was lost by reading, without a second certificate', async () => {
    let dropped = 0;
    const env = await setup({
      fetch: (inner) => async (u, i) => {
        const res = await inner(u, i);
        if (i.method === 'POST' && u.endsWith('/v1/certificates') && dropped++ === 0)
          throw new TypeError('socket hang up');
        return res;
      },
    });
    const r = await env.run();
    expect(dropped).toBeGreaterThan(0);
    expect(env.sim.store.list('certificates')).toHaveLength(1);
    expect(env.sim.stats.get('POST /v1/certificates')).toBe(1);
    expect(r.certificate.id).toBe(env.sim.store.list('certificates')[0]!.id);
  });

  it('revokes a certificate Apple issued for another key and says so (SIGNING_CERTIFICATE_MISMATCH)', async () => {
    // The request is changed on the way: Apple signs a CSR of another key, as a broken proxy or server might.
    const otherCsr = makeCsr(newRsaKey(), 'someone else');
    const env = await setup({
      fetch: (inner) => async (u, i) => {
        if (i.method === 'POST' && u.endsWith('/v1/certificates')) {
          const body = JSON.parse(String(i.body)) as { data: { attributes: { csrContent: string } } };
          body.data.attributes.csrContent = otherCsr;
          return inner(u, { ...i, body: JSON.stringify(body) });
        }
        return inner(u, i);
      },
    });
    expect(await codeOf(env.run())).toMatch(
      /^SIGNING_CERTIFICATE_MISMATCH: certificate \S+ from Apple is not for the key made here/,
    );
    // Nothing is left half-made: the certificate was revoked again, and no key was kept for it.
    expect(env.writes().filter((w) => w.startsWith('DELETE'))).toHaveLength(1);
    expect(env.sim.store.list('certificates')).toHaveLength(0);
    expect(await env.keys.ids()).toEqual([]);
  });

  it('explains a 403 for a role that may not provision, and refuses individual keys and wildcards up front', async () => {
    const adminOnly: SeedInput = {
      ...DEFAULT_SEED,
      roleRules: [
        { pattern: '^[A-Z]+ /v1/(bundleIds|bundleIdCapabilities|certificates|profiles|devices)', roles: ['ADMIN'] },
        { pattern: '.', roles: ['ADMIN', 'APP_MANAGER'] },
      ],
    };
    const env = await setup({ seed: adminOnly });
    const msg = await codeOf(env.run());
    expect(msg).toMatch(/^SIGNING_FORBIDDEN: Apple refused GET \/v1\/certificates with 403 .*role may not manage/);
    expect(msg).toContain('Admin role');
    expect(await codeOf(env.run({ individualKey: true }))).toMatch(/^SIGNING_FORBIDDEN: an individual API key/);
    const before = [...env.sim.stats.values()].reduce((a, b) => a + b, 0);
    expect(await codeOf(env.run({ bundleIdentifier: 'com.example.*' }))).toMatch(
      /^SIGNING_BUNDLE_ID_INVALID: .*wildcard/,
    );
    expect([...env.sim.stats.values()].reduce((a, b) => a + b, 0)).toBe(before);
  });
});

describe('signing revoke', () => {
  it('revokes at Apple and forgets the key; an unknown or already revoked id is a clear not-found', async () => {
    const env = await setup();
    const r = await env.run();
    expect(await revokeSigning(env.client, env.keys, r.certificate.id)).toEqual({
      id: r.certificate.id,
      keyRemoved: true,
    });
    expect(await env.keys.ids()).toEqual([]);
    expect(await codeOf(revokeSigning(env.client, env.keys, r.certificate.id))).toMatch(
      /^SIGNING_CERTIFICATE_NOT_FOUND: /,
    );
  });
});
