import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { ensureFirstAdmin } from './accounts/bootstrap.js';
import { createTeam } from './accounts/teams.js';
import { createService, type Service } from './service.js';
import { VaultSigningKeys } from './store/signing-keys.js';
import { describeStores } from './store/testing/dialects.js';
import { bearerFor, databaseUrlOf, type Headers, recordingCall } from './store/testing/service.js';

const APP = 'com.example.sandbox.one';

describeStores('server: signing assets in the vault, per team', (ctx) => {
  let sim: Simulator;
  let svc: Service;
  let dir: string;
  let teamId: string;
  const logs: string[] = [];
  const bodies: string[] = [];
  const tokens: Record<'owner' | 'releaser' | 'viewer' | 'otherOwner', Headers> = {
    owner: {},
    releaser: {},
    viewer: {},
    otherOwner: {},
  };
  /** The private key the first ensure sealed, read back from the vault: what must appear nowhere else. */
  let pem = '';
  let certId = '';
  /** Keys of later certificates, checked the same way. */
  const pems: string[] = [];

  const call = recordingCall(() => svc.app, bodies);
  const certificateCreates = () => sim.stats.get('POST /v1/certificates') ?? 0;

  beforeAll(async () => {
    sim = await startSimulator({ host: '127.0.0.1', port: 0 });
    dir = mkdtempSync(join(tmpdir(), 'ascend-signing-svc-'));
    const loc = ctx.location();
    svc = await createService({
      dataDir: dir,
      databaseUrl: databaseUrlOf(loc),
      apiUrl: sim.url,
      workers: 0,
      log: { write: (l) => void logs.push(l) },
    });
    const { store, deps } = svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    teamId = first.team.id;
    tokens.owner = { authorization: `Bearer ${first.apiToken}` };
    const tok = (team: string, role: 'releaser' | 'viewer' | 'owner') => bearerFor(store, deps, team, role);
    tokens.releaser = await tok(teamId, 'releaser');
    tokens.viewer = await tok(teamId, 'viewer');
    const other = await createTeam(store, deps, 'Other');
    tokens.otherOwner = await tok(other.id, 'owner');
    // Both teams' keys reach the same Apple team: only the vault tells their certificates apart.
    for (const who of ['owner', 'otherOwner'] as const) {
      const k = sim.createKey({ role: 'APP_MANAGER' });
      const res = await call('POST', '/api/v1/keys', tokens[who], {
        name: 'sandbox',
        keyId: k.keyId,
        issuerId: k.issuerId,
        privateKey: k.privateKeyPem,
      });
      expect(res.statusCode).toBe(201);
    }
    expect((await call('POST', '/api/v1/apps/sync', tokens.releaser)).statusCode).toBe(200);
  });
  afterAll(async () => {
    await svc?.close({ timeoutMs: 2000 });
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ensure twice creates the certificate once, and keeps its key in the vault', async () => {
    const before = certificateCreates();
    const first = await call('POST', '/api/v1/signing/ensure', tokens.owner, { bundleId: APP });
    expect(first.statusCode).toBe(200);
    const r1 = first.json();
    expect(r1.certificate.created).toBe(true);
    expect(r1.changes.length).toBeGreaterThan(0);
    expect(r1.profile.expirationDate).not.toBe('');
    certId = r1.certificate.id;
    // By app id (a synced app) the same bundle: nothing new.
    const second = await call('POST', '/api/v1/signing/ensure', tokens.owner, { appId: '1000000001' });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ certificate: { id: certId, created: false }, changes: [] });
    expect(certificateCreates() - before).toBe(1);
    const keys = new VaultSigningKeys(svc.storage.store, svc.storage.vault, svc.storage.deps, teamId);
    expect(await keys.ids()).toEqual([certId]);
    pem = (await keys.get(certId))!.privateKeyPem;
    expect(pem).toContain('PRIVATE KEY');
    const audit = (await call('GET', '/api/v1/audit?limit=50', tokens.owner)).json().data as {
      action: string;
      outcome: string;
    }[];
    expect(audit.filter((a) => a.action === 'signing.ensure').map((a) => a.outcome)).toEqual(['success', 'success']);
  });

  it('lists the team’s certificates with expiry, held keys and their profiles', async () => {
    const res = await call('GET', '/api/v1/signing', tokens.viewer);
    expect(res.statusCode).toBe(200);
    const { data, next } = res.json();
    expect(next).toBeNull();
    const cert = data.find((c: { certificateId: string }) => c.certificateId === certId);
    expect(cert).toMatchObject({ keyHeld: true, listedByApple: true, certificateType: 'DISTRIBUTION' });
    expect(Date.parse(cert.expirationDate)).toBeGreaterThan(Date.now());
    expect(cert.serialNumber).toMatch(/\S/);
    expect(cert.profiles).toHaveLength(1);
    expect(cert.profiles[0]).toMatchObject({ bundleId: APP, profileState: 'ACTIVE' });
    expect(Date.parse(cert.profiles[0].expirationDate)).toBeGreaterThan(Date.now());
    // The other team reaches the same Apple team, but its vault holds no key for this certificate.
    const theirs = (await call('GET', '/api/v1/signing', tokens.otherOwner)).json().data;
    expect(theirs.find((c: { certificateId: string }) => c.certificateId === certId)?.keyHeld).toBe(false);
  });

  it('only admins ensure and revoke; another team’s certificate is not found', async () => {
    for (const who of ['viewer', 'releaser'] as const) {
      const res = await call('POST', '/api/v1/signing/ensure', tokens[who], { bundleId: APP });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('PERMISSION_DENIED');
      expect((await call('POST', `/api/v1/signing/${certId}/revoke`, tokens[who])).statusCode).toBe(403);
    }
    const other = await call('POST', `/api/v1/signing/${certId}/revoke`, tokens.otherOwner);
    expect(other.statusCode).toBe(404);
    expect(other.json().error.code).toBe('SIGNING_CERTIFICATE_NOT_FOUND');
    const both = await call('POST', '/api/v1/signing/ensure', tokens.owner, { bundleId: APP, appId: '1000000001' });
    expect(both.statusCode).toBe(400);
    const unknownApp = await call('POST', '/api/v1/signing/ensure', tokens.owner, { appId: '999' });
    expect(unknownApp.statusCode).toBe(404);
    const wildcard = await call('POST', '/api/v1/signing/ensure', tokens.owner, { bundleId: 'com.example.*' });
    expect(wildcard.statusCode).toBe(400);
    expect(wildcard.json().error.code).toBe('SIGNING_BUNDLE_ID_INVALID');
    const hostile = await call('POST', '/api/v1/signing/ensure', tokens.owner, { bundleId: 'a\nb\u001b[2J' });
    expect(hostile.json().error.message).not.toMatch(/[\n\u001b]/);
    // Still held and listed: nothing was revoked by the refused calls.
    const mine = (await call('GET', '/api/v1/signing', tokens.owner)).json().data;
    expect(mine.find((c: { certificateId: string }) => c.certificateId === certId)?.keyHeld).toBe(true);
  });

  it('revoke removes the certificate at Apple and its key from the vault', async () => {
    const res = await call('POST', `/api/v1/signing/${certId}/revoke`, tokens.owner);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: certId, keyRemoved: true });
    const keys = new VaultSigningKeys(svc.storage.store, svc.storage.vault, svc.storage.deps, teamId);
    expect(await keys.ids()).toEqual([]);
    const after = (await call('GET', '/api/v1/signing', tokens.owner)).json().data;
    expect(after.some((c: { certificateId: string }) => c.certificateId === certId)).toBe(false);
    expect((await call('POST', `/api/v1/signing/${certId}/revoke`, tokens.owner)).statusCode).toBe(404);
  });

  it('two ensures of one team at once make one new certificate', async () => {
    const before = certificateCreates();
    const [a, b] = await Promise.all([
      call('POST', '/api/v1/signing/ensure', tokens.owner, { bundleId: APP }),
      call('POST', '/api/v1/signing/ensure', tokens.owner, { bundleId: APP }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(a.json().certificate.id).toBe(b.json().certificate.id);
    expect([a.json().certificate.created, b.json().certificate.created].sort()).toEqual([false, true]);
    expect(certificateCreates() - before).toBe(1);
    const keys = new VaultSigningKeys(svc.storage.store, svc.storage.vault, svc.storage.deps, teamId);
    pems.push((await keys.get(a.json().certificate.id))!.privateKeyPem);
  });

  it('a held key whose certificate Apple no longer lists is shown as such, and its failed revoke is audited', async () => {
    const keys = new VaultSigningKeys(svc.storage.store, svc.storage.vault, svc.storage.deps, teamId);
    const gone = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    await keys.save({
      certificateId: 'GONE1234',
      certificateType: 'DISTRIBUTION',
      serialNumber: '0A0B',
      expirationDate: '2027-01-01T00:00:00.000Z',
      certificateContent: 'MIIB',
      privateKeyPem: gone,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    pems.push(gone);
    const listed = (await call('GET', '/api/v1/signing', tokens.viewer)).json().data;
    expect(listed.find((c: { certificateId: string }) => c.certificateId === 'GONE1234')).toMatchObject({
      keyHeld: true,
      listedByApple: false,
      expirationDate: '2027-01-01T00:00:00.000Z',
      profiles: [],
    });
    const res = await call('POST', '/api/v1/signing/GONE1234/revoke', tokens.owner);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('SIGNING_CERTIFICATE_NOT_FOUND');
    expect(await keys.ids()).toContain('GONE1234');
    const audit = (await call('GET', '/api/v1/audit?limit=50', tokens.owner)).json().data as {
      action: string;
      outcome: string;
      target: { id: string } | null;
    }[];
    expect(audit.find((a) => a.action === 'signing.revoke' && a.target?.id === 'GONE1234')?.outcome).toBe('failure');
  });

  it('no answer, log line, audit row or database byte holds the signing private key', async () => {
    expect(pems).toHaveLength(2);
    const audit = JSON.stringify((await call('GET', '/api/v1/audit?limit=200', tokens.owner)).json());
    expect(audit).toContain('signing.revoke');
    const everything = [...logs, ...bodies, audit].join('\n');
    expect(logs.length).toBeGreaterThan(10);
    expect(everything).not.toContain('PRIVATE KEY');
    const loc = ctx.location();
    const raw =
      loc.dialect === 'sqlite'
        ? readFileSync(loc.path).toString('latin1') + readFileSync(`${loc.path}-wal`, { flag: 'a+' }).toString('latin1')
        : '';
    expect(raw).not.toContain('PRIVATE KEY');
    for (const key of [pem, ...pems]) {
      // Whole lines: each holds secret bytes (a P-256 key's first line starts with a prefix every such key shares).
      const lines = key.split('\n').filter((l) => l && !l.startsWith('-----'));
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines) {
        expect(everything).not.toContain(line);
        expect(raw).not.toContain(line);
      }
      expect(everything.replace(/\\n|\s/g, '')).not.toContain(lines.join('').slice(48, 112));
    }
  });
});
