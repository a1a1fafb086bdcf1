import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { finding } from '../../doctor/types.js';
import { createTeam } from '../accounts/teams.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { listAlerts, recordFindings } from './alerts.js';
import type { StoreDeps } from './ids.js';
import { addKey } from './keys.js';
import type { Store } from './open.js';
import { describeStores } from './testing/dialects.js';

const T0 = Date.parse('2026-11-29T00:00:00Z');
const HOUR = 3_600_000;
const deps: StoreDeps = { clock: new FakeClock(T0), randomBytes: (n) => randomBytes(n) };
const master = masterKeyOf(randomBytes(32));

const expired = finding('CERTIFICATE_EXPIRED', {
  subject: 'certificate C1 (Apple Distribution)',
  expiresAt: '2026-11-28T00:00:00.000Z',
  message: 'certificate C1 expired on 2026-11-28',
  fix: 'make a new certificate',
});
const agreement = finding('AGREEMENT_MISSING', {
  subject: 'team agreements',
  message: 'Apple answers 403: a required agreement is missing',
  fix: 'accept the agreement in App Store Connect',
});

async function teamWithKey(s: Store, name: string): Promise<{ teamId: string; keyRef: string }> {
  const team = await createTeam(s, deps, name);
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();
  const key = await addKey(s, new Vault(s, { current: master }, deps), deps, team.id, {
    name: 'ci',
    keyId: 'ABCDE12345',
    issuerId: '69a6de7e-0000-47e3-e053-5b8c7c11a4d1',
    privateKey: pem,
  });
  return { teamId: team.id, keyRef: key.id };
}

describeStores('alerts', (ctx) => {
  it('opens a finding once, only bumps last_seen_at when seen again, and resolves it when gone', async () => {
    const s = ctx.store();
    const { teamId, keyRef } = await teamWithKey(s, 'a');
    expect(await recordFindings(s, deps, teamId, keyRef, [expired], T0)).toEqual({ opened: 1, resolved: 0 });
    expect(await recordFindings(s, deps, teamId, keyRef, [expired], T0 + HOUR)).toEqual({ opened: 0, resolved: 0 });
    const open = await listAlerts(s, teamId, { state: 'open' });
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({
      code: 'CERTIFICATE_EXPIRED',
      severity: 'error',
      keyRef,
      expiresAt: '2026-11-28T00:00:00.000Z',
      firstSeenAt: new Date(T0).toISOString(),
      lastSeenAt: new Date(T0 + HOUR).toISOString(),
      resolvedAt: null,
    });
    expect(await recordFindings(s, deps, teamId, keyRef, [], T0 + 2 * HOUR)).toEqual({ opened: 0, resolved: 1 });
    expect(await listAlerts(s, teamId, { state: 'open' })).toEqual([]);
    const resolved = await listAlerts(s, teamId, { state: 'resolved' });
    expect(resolved.map((a) => [a.id, a.resolvedAt])).toEqual([[open[0]!.id, new Date(T0 + 2 * HOUR).toISOString()]]);
  });

  it('re-opens a finding that comes back as a new row and keeps the resolved one', async () => {
    const s = ctx.store();
    const { teamId, keyRef } = await teamWithKey(s, 'b');
    await recordFindings(s, deps, teamId, keyRef, [agreement], T0);
    await recordFindings(s, deps, teamId, keyRef, [], T0 + HOUR);
    await recordFindings(s, deps, teamId, keyRef, [agreement, expired], T0 + 2 * HOUR);
    const open = await listAlerts(s, teamId, { state: 'open' });
    expect(open.map((a) => a.code).sort()).toEqual(['AGREEMENT_MISSING', 'CERTIFICATE_EXPIRED']);
    const resolved = await listAlerts(s, teamId, { state: 'resolved' });
    expect(resolved).toHaveLength(1);
    expect(open.find((a) => a.code === 'AGREEMENT_MISSING')!.id).not.toBe(resolved[0]!.id);
  });

  it("keeps teams and keys apart: one key's check never resolves another's alerts", async () => {
    const s = ctx.store();
    const one = await teamWithKey(s, 'c');
    const two = await teamWithKey(s, 'd');
    await recordFindings(s, deps, one.teamId, one.keyRef, [expired], T0);
    await recordFindings(s, deps, two.teamId, two.keyRef, [], T0 + HOUR);
    expect(await listAlerts(s, one.teamId, { state: 'open' })).toHaveLength(1);
    expect(await listAlerts(s, two.teamId, { state: 'open' })).toEqual([]);
    expect(await listAlerts(s, two.teamId, { state: 'resolved' })).toEqual([]);
  });
});
