import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { parse as parsePlist } from 'plist';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator, writeKeyFile } from '../simulator/index.js';
import { readSignedData } from '../src/ipa/cms.js';
import { parseProfile } from '../src/ipa/profile.js';
import { runCli } from './helpers/cli.js';

/**
 * `bin/ascend signing ensure|list|revoke` end to end against the simulator: files, modes, idempotency
 * (counted in simulator writes), and the .p12 / profile checked with OpenSSL 3 and Node's X509Certificate.
 */
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!hasOpenssl) console.warn('note: `openssl` is not installed; the OpenSSL checks of the .p12 are skipped');

let sim: Simulator;
let dir: string;
let env: Record<string, string>;
const APP = 'com.example.sandbox.one';
const writes = () => [...sim.stats.entries()].filter(([k]) => !k.startsWith('GET')).reduce((n, [, v]) => n + v, 0);

beforeAll(async () => {
  sim = await startSimulator();
  dir = mkdtempSync(join(tmpdir(), 'ascend-signing-e2e-'));
  writeKeyFile(join(dir, 'key.json'), sim.createKey());
  env = { HOME: dir, ASCEND_HOME: join(dir, 'home'), APP_STORE_CONNECT_API_KEY_PATH: join(dir, 'key.json') };
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

const ensure = (out: string, extra: string[] = []) =>
  runCli(['signing', 'ensure', '--app', APP, '--out', out, '--api-url', sim.url, '--json', ...extra], { env });

describe('ascend signing (CLI end to end)', () => {
  it('ensure writes an owner-only .p12 + password, the profile and a summary; a second run creates nothing', async () => {
    const out = join(dir, 'out');
    const first = await ensure(out);
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary.bundleId).toMatchObject({ identifier: APP, created: true });
    expect(summary.certificate.created && summary.profile.created).toBe(true);
    expect(writes()).toBe(3);
    const p12 = join(out, 'distribution.p12');
    const pwFile = join(out, 'distribution.p12.password');
    expect(statSync(p12).mode & 0o777).toBe(0o600);
    expect(statSync(pwFile).mode & 0o777).toBe(0o600);
    const password = readFileSync(pwFile, 'utf8').trim();
    expect(password.length).toBeGreaterThanOrEqual(24);
    // Nothing secret on stdout, stderr or in the summary.
    const summaryFile = readFileSync(join(out, 'signing.json'), 'utf8');
    for (const text of [first.stdout, first.stderr, summaryFile]) {
      expect(text).not.toContain(password);
      expect(text).not.toMatch(/PRIVATE KEY/);
    }
    expect(JSON.parse(summaryFile).profile.uuid).toBe(summary.profile.uuid);

    const second = await ensure(out);
    expect(second.code, second.stderr).toBe(0);
    expect(writes()).toBe(3);
    const again = JSON.parse(second.stdout);
    expect([again.bundleId.created, again.certificate.created, again.profile.created]).toEqual([false, false, false]);
    expect(again.certificate.id).toBe(summary.certificate.id);
    expect(readFileSync(pwFile, 'utf8').trim()).toBe(password);
  });

  it.skipIf(!hasOpenssl)(
    'the .p12 opens with OpenSSL 3 without -legacy, its certificate matches its key, and the profile embeds it',
    () => {
      const out = join(dir, 'out');
      const p12 = join(out, 'distribution.p12');
      const passin = `file:${join(out, 'distribution.p12.password')}`;
      const certPem = execFileSync('openssl', ['pkcs12', '-in', p12, '-nokeys', '-passin', passin], {
        encoding: 'utf8',
      });
      const keyPem = execFileSync('openssl', ['pkcs12', '-in', p12, '-nocerts', '-nodes', '-passin', passin], {
        encoding: 'utf8',
      });
      const cert = new X509Certificate(certPem.slice(certPem.indexOf('-----BEGIN CERTIFICATE-----')));
      expect(cert.checkPrivateKey(createPrivateKey(keyPem.slice(keyPem.indexOf('-----BEGIN PRIVATE KEY-----'))))).toBe(
        true,
      );
      expect(cert.subject).toContain('Apple Distribution: Sandbox Team');
      const profile = readFileSync(join(out, `${APP}.mobileprovision`));
      const plist = parsePlist(readSignedData(profile).content.toString('utf8')) as {
        DeveloperCertificates: Uint8Array[];
      };
      expect(plist.DeveloperCertificates.map((d) => Buffer.from(d).equals(cert.raw))).toEqual([true]);
      // A wrong password is refused (the file really is protected).
      const wrong = spawnSync('openssl', ['pkcs12', '-in', p12, '-nokeys', '-passin', 'pass:wrong']);
      expect(wrong.status).not.toBe(0);
    },
  );

  it('the profile verifies with ascend’s inspector and, against the simulator’s root, with openssl cms', async () => {
    const profilePath = join(dir, 'out', `${APP}.mobileprovision`);
    const facts = await parseProfile(readFileSync(profilePath), 'the profile');
    expect(facts).toMatchObject({
      kind: 'app-store',
      applicationIdentifier: `SANDBOXTM1.${APP}`,
      signatureValid: true,
    });
    if (!hasOpenssl) return;
    const ca = (await (await fetch(`${sim.url}/__sim/provisioning/ca`)).json()) as {
      rootCertificatePem: string;
      rootSha256Fingerprint: string;
    };
    writeFileSync(join(dir, 'root.pem'), ca.rootCertificatePem);
    const v = spawnSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-inform',
        'DER',
        '-in',
        profilePath,
        '-CAfile',
        join(dir, 'root.pem'),
        '-purpose',
        'any',
        '-out',
        '/dev/null',
      ],
      { encoding: 'utf8' },
    );
    expect(v.status, v.stderr).toBe(0);
    expect(ca.rootSha256Fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('with --p12-password-file the .p12 takes that password, creates nothing, and the generated password file goes', async () => {
    const out = join(dir, 'out');
    const pw = join(dir, 'my-password');
    writeFileSync(pw, 'my own p12 password\n', { mode: 0o600 });
    const before = writes();
    const r = await ensure(out, ['--p12-password-file', pw, '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(writes()).toBe(before);
    expect(JSON.parse(r.stdout).files.passwordFile).toBeNull();
    expect(existsSync(join(out, 'distribution.p12.password'))).toBe(false);
    // --verbose logs every request, and still nothing secret.
    expect(r.stderr).toMatch(/POST|GET/);
    expect(r.stdout + r.stderr).not.toContain('my own p12 password');
    expect(r.stdout + r.stderr).not.toMatch(/PRIVATE KEY|Bearer\s+[A-Za-z0-9]|eyJ[A-Za-z0-9_-]{5,}\./);
    const asn1 = forge.asn1.fromDer(readFileSync(join(out, 'distribution.p12')).toString('binary'));
    expect(() => forge.pkcs12.pkcs12FromAsn1(asn1, 'my own p12 password')).not.toThrow();
    if (hasOpenssl) {
      const ok = spawnSync('openssl', [
        'pkcs12',
        '-in',
        join(out, 'distribution.p12'),
        '-nokeys',
        '-passin',
        `file:${pw}`,
      ]);
      expect(ok.status, String(ok.stderr)).toBe(0);
    }
  });

  it('list shows the certificate with its key held and the profile; revoke revokes and forgets the key', async () => {
    const l = await runCli(['signing', 'list', '--api-url', sim.url, '--json'], { env });
    expect(l.code, l.stderr).toBe(0);
    const inv = JSON.parse(l.stdout);
    expect(inv.certificates).toHaveLength(1);
    expect(inv.certificates[0]).toMatchObject({ certificateType: 'DISTRIBUTION', keyHeld: true });
    expect(inv.profiles[0]).toMatchObject({ profileType: 'IOS_APP_STORE', profileState: 'ACTIVE' });
    const id = inv.certificates[0].id;
    const r = await runCli(['signing', 'revoke', id, '--api-url', sim.url, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ revoked: id, keyRemoved: true });
    const after = JSON.parse((await runCli(['signing', 'list', '--api-url', sim.url, '--json'], { env })).stdout);
    expect(after.certificates).toEqual([]);
    expect(after.profiles[0].profileState).toBe('INVALID');
  });
});
