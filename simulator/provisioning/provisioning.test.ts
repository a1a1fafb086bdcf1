import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { parse as parsePlist } from 'plist';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { readSignedData } from '../../src/ipa/cms.js';
import { parseProfile } from '../../src/ipa/profile.js';
import { appleToken } from '../../test/helpers/jwt.js';
import { createSimulator } from '../index.js';
import { DEFAULT_SEED, type SeedInput } from '../seed.js';

const DAY = 86_400_000;

function setup(opts: { role?: string; individual?: boolean; seed?: SeedInput } = {}) {
  const clock = new FakeClock(Date.UTC(2026, 5, 1));
  const sim = createSimulator({ clock, seed: opts.seed });
  const key = sim.createKey({ role: opts.role ?? 'APP_MANAGER', individual: opts.individual });
  const req = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
    sim.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${appleToken(key, Math.floor(clock.now() / 1000), opts.individual ? { sub: 'user' } : {})}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
  return { sim, clock, req };
}

/** A CSR made the way a client makes one: node:crypto key, forge request, SHA-256. */
function makeCsr(opts: { bits?: number; tamper?: boolean } = {}) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: opts.bits ?? 2048 });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
  const key = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject([{ name: 'commonName', value: 'ascend test' }]);
  csr.sign(key, forge.md.sha256.create());
  const csrPem = forge.pki.certificationRequestToPem(csr);
  if (!opts.tamper) return { csrPem, privateKeyPem: pem };
  // One bit of the signature flipped: still a well-formed request, but it no longer verifies.
  const der = Buffer.from(forge.util.decode64(csrPem.replace(/-----[^-]+-----|\s/g, '')), 'binary');
  der[der.length - 1] = der[der.length - 1]! ^ 1;
  const b64 = der.toString('base64');
  return {
    csrPem: `-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n-----END CERTIFICATE REQUEST-----\n`,
    privateKeyPem: pem,
  };
}

const bundleBody = (identifier: string, name = 'Test App') => ({
  data: { type: 'bundleIds', attributes: { identifier, name, platform: 'IOS' } },
});
const certBody = (csrContent: string, certificateType = 'DISTRIBUTION') => ({
  data: { type: 'certificates', attributes: { certificateType, csrContent } },
});
const profileBody = (
  name: string,
  bundleId: string,
  certs: string[],
  profileType = 'IOS_APP_STORE',
  devices?: string[],
) => ({
  data: {
    type: 'profiles',
    attributes: { name, profileType },
    relationships: {
      bundleId: { data: { type: 'bundleIds', id: bundleId } },
      certificates: { data: certs.map((id) => ({ type: 'certificates', id })) },
      ...(devices ? { devices: { data: devices.map((id) => ({ type: 'devices', id })) } } : {}),
    },
  },
});

async function bundleAndCert(req: ReturnType<typeof setup>['req'], identifier = 'com.example.sandbox.one') {
  const b = await req('POST', '/v1/bundleIds', bundleBody(identifier));
  expect(b.statusCode).toBe(201);
  const c = await req('POST', '/v1/certificates', certBody(makeCsr().csrPem));
  expect(c.statusCode).toBe(201);
  return { bundleId: b.json().data.id as string, certId: c.json().data.id as string, cert: c.json().data };
}

describe('simulator provisioning: bundle IDs and capabilities', () => {
  it('registers a bundle ID, refuses duplicates, bad identifiers and names, and finds it by identifier', async () => {
    const { req } = setup();
    const r = await req('POST', '/v1/bundleIds', bundleBody('com.example.sandbox.one'));
    expect(r.statusCode).toBe(201);
    expect(r.json().data.attributes).toMatchObject({ identifier: 'com.example.sandbox.one', seedId: 'SANDBOXTM1' });
    const dup = await req('POST', '/v1/bundleIds', bundleBody('COM.example.sandbox.one'));
    expect(dup.statusCode).toBe(409);
    expect(dup.json().errors[0].detail).toContain('is not available');
    const bad = await req('POST', '/v1/bundleIds', bundleBody('com..bad id'));
    expect(bad.json().errors[0]).toMatchObject({
      code: 'ENTITY_ERROR.ATTRIBUTE.INVALID',
      source: { pointer: '/data/attributes/identifier' },
    });
    const badName = await req('POST', '/v1/bundleIds', bundleBody('com.example.x', 'a-b.c'));
    expect(badName.json().errors[0].source.pointer).toBe('/data/attributes/name');
    const wrongEnum = await req('POST', '/v1/bundleIds', {
      data: { type: 'bundleIds', attributes: { identifier: 'com.example.y', name: 'Y', platform: 'WINDOWS' } },
    });
    expect(wrongEnum.statusCode).toBeGreaterThanOrEqual(400);
    expect(wrongEnum.statusCode).toBeLessThan(500);
    const wildcard = await req('POST', '/v1/bundleIds', bundleBody('com.example.*', 'Wildcard'));
    expect(wildcard.statusCode).toBe(201);
    const found = await req('GET', '/v1/bundleIds?filter[identifier]=com.example.sandbox.one');
    expect(found.json().data.map((d: { id: string }) => d.id)).toEqual([r.json().data.id]);
  });

  it('a capability change invalidates the bundle ID’s profiles; duplicates are refused', async () => {
    const { req } = setup();
    const { bundleId, certId } = await bundleAndCert(req);
    const p = await req('POST', '/v1/profiles', profileBody('P1', bundleId, [certId]));
    expect(p.json().data.attributes.profileState).toBe('ACTIVE');
    const capBody = {
      data: {
        type: 'bundleIdCapabilities',
        attributes: { capabilityType: 'PUSH_NOTIFICATIONS' },
        relationships: { bundleId: { data: { type: 'bundleIds', id: bundleId } } },
      },
    };
    expect((await req('POST', '/v1/bundleIdCapabilities', capBody)).statusCode).toBe(201);
    expect((await req('POST', '/v1/bundleIdCapabilities', capBody)).statusCode).toBe(409);
    const after = await req('GET', `/v1/profiles/${p.json().data.id}`);
    expect(after.json().data.attributes.profileState).toBe('INVALID');
    const caps = await req('GET', `/v1/bundleIds/${bundleId}/bundleIdCapabilities`);
    expect(
      caps.json().data.map((c: { attributes: { capabilityType: string } }) => c.attributes.capabilityType),
    ).toEqual(['PUSH_NOTIFICATIONS']);
  });
});

describe('simulator provisioning: deletions and persistence', () => {
  it('refuses to delete a bundle ID an app uses; deleting another removes its capabilities and profiles', async () => {
    const { req } = setup();
    const { bundleId: used } = await bundleAndCert(req);
    expect((await req('DELETE', `/v1/bundleIds/${used}`)).statusCode).toBe(409);
    const free = (await req('POST', '/v1/bundleIds', bundleBody('com.example.unused', 'Unused'))).json().data.id;
    const cap = await req('POST', '/v1/bundleIdCapabilities', {
      data: {
        type: 'bundleIdCapabilities',
        attributes: { capabilityType: 'GAME_CENTER' },
        relationships: { bundleId: { data: { type: 'bundleIds', id: free } } },
      },
    });
    const certId = (await req('GET', '/v1/certificates')).json().data[0].id;
    const prof = await req('POST', '/v1/profiles', profileBody('U', free, [certId]));
    expect((await req('DELETE', `/v1/bundleIdCapabilities/${cap.json().data.id}`)).statusCode).toBe(204);
    expect((await req('GET', `/v1/profiles/${prof.json().data.id}`)).json().data.attributes.profileState).toBe(
      'INVALID',
    );
    expect((await req('DELETE', `/v1/bundleIds/${free}`)).statusCode).toBe(204);
    expect((await req('GET', `/v1/profiles/${prof.json().data.id}`)).statusCode).toBe(404);
    expect((await req('GET', `/v1/bundleIds/${free}`)).statusCode).toBe(404);
  });

  it('keeps its CA in the state file, so a restarted simulator publishes the same root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ascend-sim-ca-'));
    try {
      const stateFile = join(dir, 'state.json');
      const first = createSimulator({ stateFile });
      const a = (await first.app.inject({ method: 'GET', url: '/__sim/provisioning/ca' })).json();
      await first.close();
      const second = createSimulator({ stateFile });
      const b = (await second.app.inject({ method: 'GET', url: '/__sim/provisioning/ca' })).json();
      await second.close();
      expect(b.rootSha256Fingerprint).toBe(a.rootSha256Fingerprint);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('simulator provisioning: certificates', () => {
  it('issues an X.509 certificate for the CSR key from its own CA chain, valid one year by its clock', async () => {
    const { sim, req, clock } = setup();
    const { csrPem, privateKeyPem } = makeCsr();
    const r = await req('POST', '/v1/certificates', certBody(csrPem));
    expect(r.statusCode).toBe(201);
    const a = r.json().data.attributes;
    const cert = new X509Certificate(Buffer.from(a.certificateContent, 'base64'));
    expect(cert.checkPrivateKey(createPrivateKey(privateKeyPem))).toBe(true);
    expect(Date.parse(cert.validTo)).toBeGreaterThan(clock.now() + 364 * DAY);
    expect(Date.parse(cert.validTo)).toBeLessThanOrEqual(clock.now() + 365 * DAY);
    expect(a.expirationDate).toBe(new Date(Date.parse(cert.validTo)).toISOString());
    expect(a.serialNumber).toBe(cert.serialNumber.toUpperCase());
    expect(cert.subject).toContain('CN=Apple Distribution: Sandbox Team (SANDBOXTM1)');
    // The chain: leaf ← WWDR intermediate ← root, whose fingerprint the simulator publishes.
    const ca = (await sim.app.inject({ method: 'GET', url: '/__sim/provisioning/ca' })).json();
    const root = new X509Certificate(ca.rootCertificatePem);
    expect(root.fingerprint256).toBe(ca.rootSha256Fingerprint);
    const wwdr = sim.store.list('__simProvisioningCa')[0]!.internal!.ca!.wwdrPem;
    expect(cert.verify(new X509Certificate(wwdr).publicKey)).toBe(true);
    expect(new X509Certificate(wwdr).verify(root.publicKey)).toBe(true);
  });

  it('answers 409 for a CSR Apple would refuse: not a CSR, tampered, RSA 1024, EC key', async () => {
    const { req } = setup();
    const cases: [string, string][] = [
      ['not a csr!', 'not a PEM'],
      [Buffer.from('not der at all').toString('base64'), 'not a PKCS#10'],
      [makeCsr({ tamper: true }).csrPem, 'does not verify'],
      [makeCsr({ bits: 1024 }).csrPem, 'RSA 1024'],
      [EC_CSR, 'not an RSA key'],
    ];
    for (const [csr, why] of cases) {
      const r = await req('POST', '/v1/certificates', certBody(csr));
      expect(r.statusCode, why).toBe(409);
      expect(r.json().errors[0], why).toMatchObject({
        code: 'ENTITY_ERROR.ATTRIBUTE.INVALID',
        source: { pointer: '/data/attributes/csrContent' },
      });
      expect(r.json().errors[0].detail, why).toContain(why);
    }
  });

  it('caps current distribution certificates per team with Apple’s 409; an expired one frees a slot', async () => {
    const { req, clock } = setup();
    for (let i = 0; i < 3; i++)
      expect((await req('POST', '/v1/certificates', certBody(makeCsr().csrPem))).statusCode).toBe(201);
    const over = await req('POST', '/v1/certificates', certBody(makeCsr().csrPem));
    expect(over.statusCode).toBe(409);
    expect(over.json().errors[0]).toMatchObject({
      code: 'ENTITY_ERROR',
      detail: 'You already have a current Distribution certificate or a pending certificate request.',
    });
    // Development certificates are not capped by it.
    expect((await req('POST', '/v1/certificates', certBody(makeCsr().csrPem, 'DEVELOPMENT'))).statusCode).toBe(201);
    clock.advance(366 * DAY);
    expect((await req('POST', '/v1/certificates', certBody(makeCsr().csrPem))).statusCode).toBe(201);
  });
});

describe('simulator provisioning: profiles', () => {
  it('issues a CMS-signed App Store profile that ascend’s inspector verifies, embedding the certificate and capabilities', async () => {
    const { req } = setup();
    const { bundleId, certId, cert } = await bundleAndCert(req);
    await req('POST', '/v1/bundleIdCapabilities', {
      data: {
        type: 'bundleIdCapabilities',
        attributes: { capabilityType: 'PUSH_NOTIFICATIONS' },
        relationships: { bundleId: { data: { type: 'bundleIds', id: bundleId } } },
      },
    });
    const r = await req('POST', '/v1/profiles', profileBody('ascend app store', bundleId, [certId]));
    expect(r.statusCode).toBe(201);
    const a = r.json().data.attributes;
    expect(a).toMatchObject({ profileType: 'IOS_APP_STORE', profileState: 'ACTIVE', platform: 'IOS' });
    expect(a.expirationDate).toBe(cert.attributes.expirationDate);
    const der = Buffer.from(a.profileContent, 'base64');
    const facts = await parseProfile(der, 'the profile');
    expect(facts).toMatchObject({
      name: 'ascend app store',
      uuid: a.uuid,
      teamId: 'SANDBOXTM1',
      applicationIdentifier: 'SANDBOXTM1.com.example.sandbox.one',
      kind: 'app-store',
      apsEnvironment: 'production',
      betaReportsActive: true,
      signatureValid: true,
    });
    const plist = parsePlist(readSignedData(der).content.toString('utf8')) as { DeveloperCertificates: Buffer[] };
    expect(plist.DeveloperCertificates.map((b) => Buffer.from(b).toString('base64'))).toEqual([
      cert.attributes.certificateContent,
    ]);
    const linked = await req('GET', `/v1/profiles/${r.json().data.id}/certificates`);
    expect(linked.json().data.map((c: { id: string }) => c.id)).toEqual([certId]);
    const byBundle = await req('GET', `/v1/bundleIds/${bundleId}/profiles`);
    expect(byBundle.json().data.map((p: { id: string }) => p.id)).toEqual([r.json().data.id]);
  });

  it('refuses a duplicate name, a development certificate for App Store, and an ad-hoc profile without devices', async () => {
    const { req } = setup();
    const { bundleId, certId } = await bundleAndCert(req);
    expect((await req('POST', '/v1/profiles', profileBody('Same', bundleId, [certId]))).statusCode).toBe(201);
    const dup = await req('POST', '/v1/profiles', profileBody('Same', bundleId, [certId]));
    expect(dup.json().errors[0].detail).toContain('Multiple profiles found with the name');
    const dev = await req('POST', '/v1/certificates', certBody(makeCsr().csrPem, 'DEVELOPMENT'));
    const wrong = await req('POST', '/v1/profiles', profileBody('W', bundleId, [dev.json().data.id]));
    expect(wrong.statusCode).toBe(409);
    expect(wrong.json().errors[0].code).toBe('ENTITY_ERROR.RELATIONSHIP.INVALID');
    const adhoc = await req('POST', '/v1/profiles', profileBody('A', bundleId, [certId], 'IOS_APP_ADHOC'));
    expect(adhoc.json().errors[0].detail).toContain('needs devices');
    const device = await req('POST', '/v1/devices', {
      data: { type: 'devices', attributes: { name: 'Phone', platform: 'IOS', udid: '00008030-001A2D3E0C38802E' } },
    });
    expect(device.statusCode).toBe(201);
    const ok = await req(
      'POST',
      '/v1/profiles',
      profileBody('A', bundleId, [certId], 'IOS_APP_ADHOC', [device.json().data.id]),
    );
    expect(ok.statusCode).toBe(201);
    const facts = await parseProfile(Buffer.from(ok.json().data.attributes.profileContent, 'base64'), 'ad hoc');
    expect(facts).toMatchObject({ kind: 'ad-hoc', devices: 1 });
  });

  it('revoking the certificate makes its profiles INVALID; deleting the profile removes it', async () => {
    const { req } = setup();
    const { bundleId, certId } = await bundleAndCert(req);
    const p = await req('POST', '/v1/profiles', profileBody('R', bundleId, [certId]));
    expect((await req('DELETE', `/v1/certificates/${certId}`)).statusCode).toBe(204);
    expect((await req('GET', `/v1/certificates/${certId}`)).statusCode).toBe(404);
    const listed = await req('GET', '/v1/profiles?filter[profileState]=INVALID');
    expect(listed.json().data.map((d: { id: string }) => d.id)).toEqual([p.json().data.id]);
    expect((await req('DELETE', `/v1/profiles/${p.json().data.id}`)).statusCode).toBe(204);
    expect((await req('GET', `/v1/profiles/${p.json().data.id}`)).statusCode).toBe(404);
  });

  it('a profile turns INVALID when its certificate expires, by the simulator’s clock', async () => {
    const { req, clock } = setup();
    const { bundleId, certId } = await bundleAndCert(req);
    const p = await req('POST', '/v1/profiles', profileBody('E', bundleId, [certId]));
    clock.advance(364 * DAY);
    expect((await req('GET', `/v1/profiles/${p.json().data.id}`)).json().data.attributes.profileState).toBe('ACTIVE');
    clock.advance(2 * DAY);
    expect((await req('GET', `/v1/profiles/${p.json().data.id}`)).json().data.attributes.profileState).toBe('INVALID');
    const expired = await req('POST', '/v1/profiles', profileBody('E2', bundleId, [certId]));
    expect(expired.json().errors[0].detail).toContain('has expired');
  });
});

describe('simulator provisioning: devices and roles', () => {
  it('registers devices (UDID checked, no duplicates) and disables them by PATCH', async () => {
    const { req } = setup();
    const body = (udid: string) => ({
      data: { type: 'devices', attributes: { name: 'Phone', platform: 'IOS', udid } },
    });
    const r = await req('POST', '/v1/devices', body('a'.repeat(40)));
    expect(r.statusCode).toBe(201);
    expect((await req('POST', '/v1/devices', body('a'.repeat(40)))).statusCode).toBe(409);
    expect((await req('POST', '/v1/devices', body('xyz'))).json().errors[0].source.pointer).toBe(
      '/data/attributes/udid',
    );
    const id = r.json().data.id;
    const patched = await req('PATCH', `/v1/devices/${id}`, {
      data: { type: 'devices', id, attributes: { status: 'DISABLED' } },
    });
    expect(patched.json().data.attributes.status).toBe('DISABLED');
  });

  it('answers 403 to Developer keys, individual keys, and (with a seeded role table) App Manager keys', async () => {
    const body = bundleBody('com.example.roles');
    expect((await setup({ role: 'DEVELOPER' }).req('POST', '/v1/bundleIds', body)).statusCode).toBe(403);
    expect((await setup({ individual: true }).req('GET', '/v1/certificates')).statusCode).toBe(403);
    const adminOnly: SeedInput = {
      ...DEFAULT_SEED,
      roleRules: [
        { pattern: '^[A-Z]+ /v1/(bundleIds|bundleIdCapabilities|certificates|profiles|devices)', roles: ['ADMIN'] },
        { pattern: '.', roles: ['ADMIN', 'APP_MANAGER'] },
      ],
    };
    const denied = await setup({ seed: adminOnly }).req('POST', '/v1/bundleIds', body);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().errors[0].detail).toBe('The API key in use does not allow this request');
    expect((await setup({ seed: adminOnly, role: 'ADMIN' }).req('POST', '/v1/bundleIds', body)).statusCode).toBe(201);
  });
});

// A PKCS#10 request for an EC P-256 key (made with `openssl req -new -key ec.pem -subj /CN=ec`).
const EC_CSR = `-----BEGIN CERTIFICATE REQUEST-----
MIHHMG8CAQAwDTELMAkGA1UEAwwCZWMwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AAQXosOWwQqelRTorHbl2AKhAvRzcnZmo56Y/cxco8Ap+E+uF+c/vgwSAVtWkRdJ
EjJB5n1EFi7Rtl06+AEH1RpSoAAwCgYIKoZIzj0EAwIDSAAwRQIhAOZysZJBSVD5
4j1d3lnw9JWvfiCgpiQl4Ff46rKDk1b3AiAhqL/qn0IOzxT5FC87qdPYTtOK94/D
Ky0zNW/idK32uQ==
-----END CERTIFICATE REQUEST-----`;
