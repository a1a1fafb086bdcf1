import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../simulator/index.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { createTeam } from '../accounts/teams.js';
import { createService, type Service } from '../service.js';
import { describeStores } from '../store/testing/dialects.js';
import { bearerFor, databaseUrlOf, type Headers, recordingCall } from '../store/testing/service.js';

const APP = 'com.example.sandbox.one';
interface Alert {
  id: string;
  code: string;
  subject: string;
  severity: string;
  resolvedAt: string | null;
  lastSeenAt: string;
}

describeStores('server: the monitor checks each key and keeps its alerts', (ctx) => {
  let sim: Simulator;
  let svc: Service;
  let dir: string;
  let issuerId = '';
  let keyRef = '';
  const bodies: string[] = [];
  const tokens: Record<'owner' | 'releaser' | 'other', Headers> = { owner: {}, releaser: {}, other: {} };
  let privateKeyPem = '';

  const call = recordingCall(() => svc.app, bodies);
  const alerts = async (state: 'open' | 'resolved', who: Headers = tokens.owner): Promise<Alert[]> => {
    const res = await call('GET', `/api/v1/alerts?state=${state}`, who);
    expect(res.statusCode).toBe(200);
    return res.json().data;
  };
  const check = async () => {
    const res = await call('POST', '/api/v1/alerts/check', tokens.owner, {});
    expect(res.statusCode).toBe(200);
    return res.json().data as { keyRef: string; findings: number; opened: number; resolved: number }[];
  };
  const simPost = async (path: string, body: unknown) => {
    const res = await fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    sim = await startSimulator({ host: '127.0.0.1', port: 0 });
    dir = mkdtempSync(join(tmpdir(), 'ascend-monitor-'));
    const loc = ctx.location();
    svc = await createService({
      dataDir: dir,
      databaseUrl: databaseUrlOf(loc),
      apiUrl: sim.url,
      workers: 0,
    });
    const { store, deps } = svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    tokens.owner = { authorization: `Bearer ${first.apiToken}` };
    tokens.releaser = await bearerFor(store, deps, first.team.id, 'releaser');
    const other = await createTeam(store, deps, 'Other');
    tokens.other = await bearerFor(store, deps, other.id, 'owner');
    const k = sim.createKey({ role: 'ADMIN' });
    issuerId = k.issuerId!;
    privateKeyPem = k.privateKeyPem;
    const res = await call('POST', '/api/v1/keys', tokens.owner, {
      name: 'sandbox',
      keyId: k.keyId,
      issuerId: k.issuerId,
      privateKey: k.privateKeyPem,
    });
    expect(res.statusCode).toBe(201);
    keyRef = res.json().id;
    expect((await call('POST', '/api/v1/apps/sync', tokens.owner)).statusCode).toBe(200);
  });
  afterAll(async () => {
    await svc?.close({ timeoutMs: 2000 });
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('only an admin may run the check, and it is audited', async () => {
    const denied = await call('POST', '/api/v1/alerts/check', tokens.releaser, {});
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('PERMISSION_DENIED');
    const results = await check();
    expect(results.map((r) => r.keyRef)).toEqual([keyRef]);
    const audit = (await call('GET', '/api/v1/audit?limit=50', tokens.owner)).json().data as { action: string }[];
    expect(audit.filter((a) => a.action === 'alerts.check').length).toBeGreaterThanOrEqual(1);
    const bad = await call('GET', '/api/v1/alerts?state=closed', tokens.owner);
    expect(bad.statusCode).toBe(400);
  });

  it('a certificate past its expiry opens one alert, still one on the next check, resolved once revoked', async () => {
    const ensure = await call('POST', '/api/v1/signing/ensure', tokens.owner, { bundleId: APP });
    expect(ensure.statusCode).toBe(200);
    const certId: string = ensure.json().certificate.id;
    expect((await alerts('open')).filter((a) => a.code === 'CERTIFICATE_EXPIRED')).toEqual([]);
    await simPost('/__sim/clock', { advanceSeconds: 400 * 86_400 });
    await check();
    const ofCert = (list: Alert[]) =>
      list.filter((a) => a.code === 'CERTIFICATE_EXPIRED' && a.subject.includes(certId));
    const first = ofCert(await alerts('open'));
    expect(first).toHaveLength(1);
    expect(first[0]!.severity).toBe('error');
    await check();
    const second = ofCert(await alerts('open'));
    expect(second.map((a) => a.id)).toEqual([first[0]!.id]);
    // Another team sees none of it.
    expect(await alerts('open', tokens.other)).toEqual([]);
    expect(await alerts('resolved', tokens.other)).toEqual([]);
    const revoke = await call('POST', `/api/v1/signing/${certId}/revoke`, tokens.owner, {});
    expect(revoke.statusCode).toBe(200);
    await check();
    expect(ofCert(await alerts('open'))).toEqual([]);
    expect(ofCert(await alerts('resolved')).map((a) => a.id)).toEqual([first[0]!.id]);
  });

  it('an expired agreement opens AGREEMENT_MISSING, blocks new deploys on the key, and resolves when accepted', async () => {
    await simPost('/__sim/agreements', { issuerId, state: 'expired' });
    await check();
    await check();
    const open = (await alerts('open')).filter((a) => a.code === 'AGREEMENT_MISSING');
    expect(open).toHaveLength(1);
    // The guard answers before anything is created: a missing artifact would otherwise be a 404.
    const deploy = await call('POST', '/api/v1/deploys', tokens.releaser, { artifactId: 'art_none', keyId: keyRef });
    expect(deploy.statusCode).toBe(409);
    const err = deploy.json().error;
    expect(err.code).toBe('KEY_BLOCKED');
    expect(err.message).toContain('AGREEMENT_MISSING');
    expect(err.remedy).toContain('POST /api/v1/alerts/check');
    expect((await call('GET', '/api/v1/deploys', tokens.owner)).json().data).toEqual([]);
    await simPost('/__sim/agreements', { issuerId, state: 'active' });
    await check();
    expect((await alerts('open')).filter((a) => a.code === 'AGREEMENT_MISSING')).toEqual([]);
    expect((await alerts('resolved')).filter((a) => a.code === 'AGREEMENT_MISSING').map((a) => a.id)).toEqual([
      open[0]!.id,
    ]);
    const after = await call('POST', '/api/v1/deploys', tokens.releaser, { artifactId: 'art_none', keyId: keyRef });
    expect(after.statusCode).toBe(404);
  });

  it('never returns the private key or a token in any answer', () => {
    const all = bodies.join('\n');
    expect(all).not.toContain(privateKeyPem.split('\n')[1]!);
    expect(all).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./);
  });
});
