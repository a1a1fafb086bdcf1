import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator, writeKeyFile } from '../../simulator/index.js';
import { createAscClient } from '../../src/asc/http/client.js';
import { AscendError } from '../../src/core/errors.js';
import { apiKeyOf } from '../../src/credentials/key.js';
import { createTokenProvider } from '../../src/credentials/token.js';
import { makeCsr, newRsaKey } from '../../src/signing/crypto.js';
import { ensureSigning } from '../../src/signing/ensure.js';
import { SigningKeyStore } from '../../src/signing/key-store.js';
import { profileNameFor } from '../../src/signing/profile.js';
import { type CliResult, runCli } from '../helpers/cli.js';

/**
 * The signing bad-input corpus: each case exits with its documented code and one line naming the problem and
 * the fix, without a stack, without printing a secret — and leaves nothing half-made at Apple.
 */
const APP = 'com.example.sandbox.one';
let dir: string;
const sims: Simulator[] = [];
const f = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ascend-bad-signing-'));
  writeFileSync(f('pw-ok'), 'correct horse\n', { mode: 0o600 });
  writeFileSync(f('pw-open'), 'correct horse\n');
  chmodSync(f('pw-open'), 0o644);
  writeFileSync(f('pw-empty'), '\n', { mode: 0o600 });
  writeFileSync(f('a-file'), 'not a folder');
});
afterAll(async () => {
  for (const s of sims) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function newSim(): Promise<{ sim: Simulator; key: (role?: string, individual?: boolean) => string }> {
  const sim = await startSimulator();
  sims.push(sim);
  let n = 0;
  return {
    sim,
    key: (role = 'APP_MANAGER', individual = false) => {
      const path = f(`key-${sims.length}-${n++}.json`);
      writeKeyFile(path, sim.createKey({ role, individual }));
      return path;
    },
  };
}

function expectOneLine(r: CliResult, exit: number, code: string): void {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('ascend:'));
  expect(r.code, r.stderr).toBe(exit);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`\\[${code}\\] — .+`));
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout + r.stderr).not.toMatch(/PRIVATE KEY|correct horse|eyJ[A-Za-z0-9_-]{5,}\./);
}

const writesOf = (sim: Simulator) => [...sim.stats.entries()].filter(([k]) => !k.startsWith('GET'));

describe('signing bad-input corpus', () => {
  it('local mistakes and refused keys: clear errors, and not one request that changes anything', async () => {
    const { sim, key } = await newSim();
    const manager = key();
    const cases: { name: string; args: string[]; keyFile?: string; exit: number; code: string }[] = [
      {
        name: 'wildcard bundle ID',
        args: ['--app', 'com.example.*', '--out', f('o1')],
        exit: 2,
        code: 'SIGNING_BUNDLE_ID_INVALID',
      },
      {
        name: 'malformed bundle ID',
        args: ['--app', 'not a bundle', '--out', f('o1')],
        exit: 2,
        code: 'SIGNING_BUNDLE_ID_INVALID',
      },
      {
        name: 'missing password file',
        args: ['--app', APP, '--out', f('o1'), '--p12-password-file', f('nope')],
        exit: 6,
        code: 'SIGNING_PASSWORD_FILE_MISSING',
      },
      {
        name: 'world-readable password file',
        args: ['--app', APP, '--out', f('o1'), '--p12-password-file', f('pw-open')],
        exit: 6,
        code: 'SIGNING_PASSWORD_FILE_PERMISSIONS',
      },
      {
        name: 'empty password file',
        args: ['--app', APP, '--out', f('o1'), '--p12-password-file', f('pw-empty')],
        exit: 6,
        code: 'SIGNING_PASSWORD_FILE_INVALID',
      },
      { name: 'unsupported type', args: ['--app', APP, '--type', 'ad-hoc', '--out', f('o1')], exit: 2, code: 'USAGE' },
      {
        name: '--out is a file',
        args: ['--app', APP, '--out', f('a-file'), '--p12-password-file', f('pw-ok')],
        exit: 2,
        code: 'USAGE',
      },
      {
        name: 'Developer key',
        args: ['--app', APP, '--out', f('o1')],
        keyFile: key('DEVELOPER'),
        exit: 3,
        code: 'SIGNING_FORBIDDEN',
      },
      {
        name: 'individual key',
        args: ['--app', APP, '--out', f('o1')],
        keyFile: key('ADMIN', true),
        exit: 3,
        code: 'SIGNING_FORBIDDEN',
      },
    ];
    const before = JSON.stringify(sim.store.snapshot().resources);
    for (const c of cases) {
      const r = await runCli(['signing', 'ensure', ...c.args, '--api-url', sim.url], {
        env: { APP_STORE_CONNECT_API_KEY_PATH: c.keyFile ?? manager },
      });
      expectOneLine(r, c.exit, c.code);
    }
    const unknown = await runCli(['signing', 'revoke', 'NO-SUCH-CERT', '--api-url', sim.url], {
      env: { APP_STORE_CONNECT_API_KEY_PATH: manager },
    });
    expectOneLine(unknown, 4, 'SIGNING_CERTIFICATE_NOT_FOUND');
    expect(writesOf(sim).filter(([k]) => k !== 'DELETE /v1/certificates/{id}')).toEqual([]);
    expect(JSON.stringify(sim.store.snapshot().resources)).toBe(before);
  }, 120_000);

  it('a revoked certificate: revoking it again is a clear not-found, and ensure makes a new one', async () => {
    const { sim, key } = await newSim();
    const env = { APP_STORE_CONNECT_API_KEY_PATH: key(), ASCEND_HOME: f('home-revoked') };
    const first = await runCli(['signing', 'ensure', '--app', APP, '--out', f('o2'), '--api-url', sim.url, '--json'], {
      env,
    });
    expect(first.code, first.stderr).toBe(0);
    const id = JSON.parse(first.stdout).certificate.id;
    expect((await runCli(['signing', 'revoke', id, '--api-url', sim.url], { env })).code).toBe(0);
    expectOneLine(
      await runCli(['signing', 'revoke', id, '--api-url', sim.url], { env }),
      4,
      'SIGNING_CERTIFICATE_NOT_FOUND',
    );
    const again = await runCli(['signing', 'ensure', '--app', APP, '--out', f('o2'), '--api-url', sim.url, '--json'], {
      env,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).certificate).toMatchObject({ created: true });
    expect(JSON.parse(again.stdout).certificate.id).not.toBe(id);
  }, 60_000);

  it('the certificate limit names the certificates in use and how to revoke one; nothing is created', async () => {
    const { sim, key } = await newSim();
    const keyFile = key();
    const k = JSON.parse((await import('node:fs')).readFileSync(keyFile, 'utf8'));
    const client = createAscClient({
      baseUrl: sim.url,
      tokens: createTokenProvider(apiKeyOf({ keyId: k.key_id, issuerId: k.issuer_id, privateKeyPem: k.key }, 'test')),
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await client.request<{ data: { id: string } }>({
        method: 'POST',
        path: '/v1/certificates',
        body: {
          data: {
            type: 'certificates',
            attributes: { certificateType: 'DISTRIBUTION', csrContent: makeCsr(newRsaKey(), 'x') },
          },
        },
      });
      ids.push(r.body.data.id);
    }
    const r = await runCli(['signing', 'ensure', '--app', APP, '--out', f('o3'), '--api-url', sim.url], {
      env: { APP_STORE_CONNECT_API_KEY_PATH: keyFile },
    });
    expectOneLine(r, 5, 'SIGNING_CERTIFICATE_LIMIT');
    for (const id of ids) expect(r.stderr).toContain(id);
    expect(r.stderr).toContain('ascend signing revoke');
    expect(sim.store.list('certificates')).toHaveLength(3);
    expect(sim.store.list('bundleIds')).toHaveLength(0);
    expect(sim.store.list('profiles')).toHaveLength(0);
  }, 60_000);

  it('a key that cannot be saved stops before any certificate is asked for', async () => {
    const { sim, key } = await newSim();
    const r = await runCli(['signing', 'ensure', '--app', APP, '--out', f('o4'), '--api-url', sim.url], {
      env: { APP_STORE_CONNECT_API_KEY_PATH: key(), ASCEND_HOME: f('a-file') },
    });
    expectOneLine(r, 6, 'SIGNING_KEY_NOT_SAVED');
    // The key is kept before the create (src/signing/certificate.ts), so nothing reaches Apple to revoke.
    expect(sim.stats.get('POST /v1/certificates')).toBeUndefined();
    expect(sim.stats.get('DELETE /v1/certificates/{id}')).toBeUndefined();
    expect(sim.store.list('certificates')).toHaveLength(0);
  }, 60_000);

  it('a profile of ascend’s name for the wrong bundle ID is refused and left alone', async () => {
    const { sim, key } = await newSim();
    const env = { APP_STORE_CONNECT_API_KEY_PATH: key(), ASCEND_HOME: f('home-wrong') };
    const other = await runCli(
      ['signing', 'ensure', '--app', 'com.example.sandbox.two', '--out', f('o5'), '--api-url', sim.url],
      { env },
    );
    expect(other.code, other.stderr).toBe(0);
    const prof = sim.store.list('profiles')[0]!;
    prof.attributes.name = profileNameFor(APP);
    const r = await runCli(['signing', 'ensure', '--app', APP, '--out', f('o6'), '--api-url', sim.url], { env });
    expectOneLine(r, 5, 'SIGNING_PROFILE_MISMATCH');
    expect(sim.store.list('profiles').map((p) => p.id)).toEqual([prof.id]);
  }, 60_000);

  it('a CSR Apple refuses is a clear error and leaves no certificate', async () => {
    const { sim, key } = await newSim();
    const k = JSON.parse((await import('node:fs')).readFileSync(key(), 'utf8'));
    // The request is damaged on its way (one character of the CSR changed), so Apple refuses it.
    const client = createAscClient({
      baseUrl: sim.url,
      tokens: createTokenProvider(apiKeyOf({ keyId: k.key_id, issuerId: k.issuer_id, privateKeyPem: k.key }, 'test')),
      fetch: (u, i) => {
        if (i.method === 'POST' && u.endsWith('/v1/certificates') && typeof i.body === 'string')
          return fetch(u, { ...i, body: i.body.replace(/MII/, 'MIJ') });
        return fetch(u, i);
      },
    });
    let err: unknown;
    try {
      await ensureSigning({
        client,
        keys: new SigningKeyStore(f('home-csr')),
        clock: { now: () => Date.now() },
        bundleIdentifier: APP,
        renewWithinDays: 30,
        onWarning: () => {},
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AscendError);
    expect((err as AscendError).code).toBe('SIGNING_CSR_REJECTED');
    expect((err as AscendError).exitCode).toBe(7);
    expect((err as AscendError).message).toMatch(/Invalid Certificate Signing Request/);
    expect(sim.store.list('certificates')).toHaveLength(0);
  }, 60_000);
});
