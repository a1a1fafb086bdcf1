import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { realSleep, type Sleep } from '../core/clock.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../sample/builder.js';
import { ensureFirstAdmin } from './accounts/bootstrap.js';
import { createService, type Service } from './service.js';
import { createDeploy, getDeploy, updateDeploy } from './store/deploys.js';
import { listKeys } from './store/keys.js';
import { describeStores } from './store/testing/dialects.js';
import { bearerFor, databaseUrlOf } from './store/testing/service.js';

const quickSleep: Sleep = (ms, signal) => realSleep(Math.min(ms / 20, 200), signal);
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/;

describeStores('server: deploys through the embedded queue and worker', (ctx) => {
  let sim: Simulator;
  let svc: Service;
  let dir: string;
  const logs: string[] = [];
  const bodies: string[] = [];
  let releaser: Record<string, string>;
  let owner: Record<string, string>;
  let otherAdmin: Record<string, string>;
  let p8 = '';
  let teamId = '';

  beforeAll(async () => {
    sim = await startSimulator({
      host: '127.0.0.1',
      port: 0,
      processingSeconds: 0.2,
      reviewSeconds: 0.2,
      partSizeBytes: 256 * 1024,
    });
    dir = mkdtempSync(join(tmpdir(), 'ascend-svc-'));
    const loc = ctx.location();
    svc = await createService({
      dataDir: dir,
      databaseUrl: databaseUrlOf(loc),
      apiUrl: sim.url,
      workers: 2,
      sleep: quickSleep,
      pollMs: 20,
      log: { write: (l) => void logs.push(l) },
      extraTrustedRoots: [SAMPLE_ROOT_SHA256],
    });
    const { store, deps } = svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    teamId = first.team.id;
    owner = { authorization: `Bearer ${first.apiToken}` };
    const tok = (role: 'releaser' | 'admin') => bearerFor(store, deps, first.team.id, role);
    releaser = await tok('releaser');
    otherAdmin = await tok('admin');
  });
  afterAll(async () => {
    await svc?.close({ timeoutMs: 2000 });
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    headers: Record<string, string>,
    payload?: unknown,
  ) => {
    const res = await svc.app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    bodies.push(res.body);
    return res;
  };
  const events = async (id: string, lastEventId?: number) => {
    const res = await svc.app.inject({
      method: 'GET',
      url: `/api/v1/deploys/${id}/events`,
      headers: { ...owner, ...(lastEventId ? { 'last-event-id': String(lastEventId) } : {}) },
    });
    bodies.push(res.body);
    return res.body
      .split('\n\n')
      .filter(Boolean)
      .map((block) => {
        const f = Object.fromEntries(
          block.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
        );
        return { id: Number(f.id), event: f.event!, data: JSON.parse(f.data!) };
      });
  };
  const upload = async (build: string) => {
    const ipa = join(dir, `App-${build}.ipa`);
    await buildIpa(ipa, { bundleId: 'com.example.sandbox.one', version: '1.1.0', build, payloadBytes: 600 * 1024 });
    const res = await svc.app.inject({
      method: 'POST',
      url: '/api/v1/artifacts',
      headers: { ...releaser, 'content-type': 'application/octet-stream', 'x-filename': 'App.ipa' },
      payload: readFileSync(ipa),
    });
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  };

  it('adds a key only after App Store Connect accepts it, with its role', async () => {
    const created = sim.createKey({ role: 'APP_MANAGER' });
    p8 = created.privateKeyPem;
    const revoked = sim.createKey({ role: 'APP_MANAGER' });
    sim.revokeKey(revoked.keyId);
    const bad = await call('POST', '/api/v1/keys', owner, {
      name: 'revoked',
      keyId: revoked.keyId,
      issuerId: revoked.issuerId,
      privateKey: revoked.privateKeyPem,
    });
    expect(bad.statusCode).toBe(401);
    const res = await call('POST', '/api/v1/keys', owner, {
      name: 'sandbox',
      keyId: created.keyId,
      issuerId: created.issuerId,
      privateKey: created.privateKeyPem,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().role).toBe('APP_MANAGER');
    expect((await call('GET', '/api/v1/keys', owner)).json().data).toHaveLength(1);
    const synced = await call('POST', '/api/v1/apps/sync', releaser);
    expect(
      synced
        .json()
        .data.map((a: { bundleId: string }) => a.bundleId)
        .sort(),
    ).toEqual(['com.example.sandbox.one', 'com.example.sandbox.two']);
    expect((await call('GET', '/api/v1/apps', releaser)).json().data).toHaveLength(2);
  });

  it('50 concurrent build-number requests get 50 distinct numbers above Apple’s', async () => {
    const ask = () => call('POST', '/api/v1/apps/1000000001/build-numbers', releaser, { version: '1.0.0' });
    const results = await Promise.all(Array.from({ length: 50 }, ask));
    const numbers = results.map((r) => Number(r.json().buildNumber));
    expect(new Set(numbers).size).toBe(50);
    expect(Math.min(...numbers)).toBe(3); // Apple's train holds 1 and 2
  });

  it('a deploy runs to TestFlight through the worker, with step events replayable from Last-Event-ID', async () => {
    const artifactId = await upload('11');
    const created = await call('POST', '/api/v1/deploys', releaser, {
      artifactId,
      groups: ['External Testers'],
      whatsNew: 'Server flow',
    });
    expect(created.statusCode).toBe(202);
    const id = created.json().id;
    const all = await events(id);
    expect(all.at(-1)).toMatchObject({ event: 'state', data: { state: 'succeeded' } });
    expect(all.some((e) => e.event === 'step' && e.data.step === 'upload' && e.data.status === 'done')).toBe(true);
    expect(all.some((e) => e.event === 'progress')).toBe(true);
    const mid = all[Math.floor(all.length / 2)]!.id;
    const replay = await events(id, mid);
    expect(replay.map((e) => e.id)).toEqual(all.filter((e) => e.id > mid).map((e) => e.id));
    const d = (await call('GET', `/api/v1/deploys/${id}`, releaser)).json();
    expect(d).toMatchObject({ state: 'succeeded', progress: 1 });
    expect(d.steps.map((s: { step: string }) => s.step)).toContain('groups');
    const list = (await call('GET', '/api/v1/deploys?limit=1', releaser)).json();
    expect(list.data[0].id).toBe(id);
    const builds = (await call('GET', '/api/v1/apps/1000000001/builds', releaser)).json().data;
    expect(builds.map((b: { buildNumber: string }) => b.buildNumber)).toContain('11');
    expect((await call('GET', '/api/v1/apps/9999999999/builds', releaser)).statusCode).toBe(404);
  });

  it('approval gate: waits before beta review, refuses the requester, resumes on another admin’s approval', async () => {
    expect((await call('PUT', '/api/v1/settings', owner, { approvals: { betaReview: true } })).statusCode).toBe(200);
    const artifactId = await upload('12');
    const id = (
      await call('POST', '/api/v1/deploys', otherAdmin, {
        artifactId,
        groups: ['External Testers'],
        betaReview: true,
        whatsNew: 'Gate',
      })
    ).json().id;
    const first = await events(id);
    expect(first.at(-1)).toMatchObject({ event: 'state', data: { state: 'awaiting_approval', step: 'betaReview' } });
    const own = await call('POST', `/api/v1/deploys/${id}/approve`, otherAdmin);
    expect(own.statusCode).toBe(403);
    expect((await call('POST', `/api/v1/deploys/${id}/approve`, releaser)).statusCode).toBe(403);
    const ok = await call('POST', `/api/v1/deploys/${id}/approve`, owner);
    expect(ok.statusCode).toBe(202);
    const rest = await events(id, first.at(-1)!.id);
    expect(rest[0]).toMatchObject({ event: 'approval', data: { step: 'betaReview' } });
    expect(rest[1]).toMatchObject({ event: 'state', data: { state: 'queued' } });
    expect(rest.at(-1)).toMatchObject({ event: 'state', data: { state: 'succeeded' } });
    // Resumed, not redone: one upload for this build at Apple.
    expect(rest.some((e) => e.event === 'step' && e.data.step === 'upload' && e.data.status === 'done')).toBe(false);
    const audit = (await call('GET', '/api/v1/audit?limit=200', owner)).json().data as {
      action: string;
      outcome: string;
    }[];
    expect(
      audit
        .filter((a) => a.action === 'deploy.approve')
        .map((a) => a.outcome)
        .sort(),
    ).toEqual(['denied', 'success']);
  });

  it('cancel stops a waiting deploy; retry runs it again to the same gate; unknown fields are refused', async () => {
    const artifactId = await upload('13');
    const id = (
      await call('POST', '/api/v1/deploys', otherAdmin, {
        artifactId,
        groups: ['External Testers'],
        betaReview: true,
        whatsNew: 'Cancel',
      })
    ).json().id;
    expect((await events(id)).at(-1)?.data.state).toBe('awaiting_approval');
    const cancelled = await call('POST', `/api/v1/deploys/${id}/cancel`, releaser);
    expect(cancelled.json().state).toBe('cancelled');
    expect((await call('POST', `/api/v1/deploys/${id}/approve`, owner)).statusCode).toBe(409);
    const retried = await call('POST', `/api/v1/deploys/${id}/retry`, releaser);
    expect(retried.statusCode).toBe(202);
    // The retry is a new run: its job carries the generation kept with the options, which the API hides.
    expect(retried.json().options).toEqual({ groups: ['External Testers'], betaReview: true, whatsNew: 'Cancel' });
    expect((await getDeploy(svc.storage.store, teamId, id)).options.run).toBe(1);
    expect((await events(id)).at(-1)?.data.state).toBe('awaiting_approval');
    const unknown = await call('POST', '/api/v1/deploys', releaser, { artifactId, extra: 1 });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('USAGE');
  });

  it('cancel ends a running deploy no job will run again (the queue gave up on it) at once', async () => {
    const { store, deps } = svc.storage;
    const artifactId = await upload('14');
    const keyRef = (await listKeys(store, teamId))[0]!.id;
    const d = await createDeploy(store, deps, teamId, { artifactId, keyRef, options: {} });
    await updateDeploy(store, deps, teamId, d.id, { state: 'running' }, ['queued']);
    const cancelled = await call('POST', `/api/v1/deploys/${d.id}/cancel`, releaser);
    expect(cancelled.statusCode).toBe(202);
    expect(cancelled.json().state).toBe('cancelled');
    expect((await events(d.id)).at(-1)?.data.state).toBe('cancelled');
  });

  it('no log line, answer, audit row or database byte holds the private key or a JWT', async () => {
    const body = p8.split('\n')[1]!;
    const audit = JSON.stringify((await call('GET', '/api/v1/audit?limit=200', owner)).json());
    const everything = [...logs, ...bodies, audit].join('\n');
    expect(logs.length).toBeGreaterThan(10);
    expect(everything).not.toContain(body);
    expect(everything).not.toMatch(JWT);
    const loc = ctx.location();
    if (loc.dialect === 'sqlite') {
      const raw =
        readFileSync(loc.path).toString('latin1') + readFileSync(`${loc.path}-wal`, { flag: 'a+' }).toString('latin1');
      expect(raw).not.toContain(body);
      expect(raw).not.toMatch(JWT);
      expect(raw).not.toContain('PRIVATE KEY');
    }
  });
});
