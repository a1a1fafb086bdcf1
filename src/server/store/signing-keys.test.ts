import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import type { HeldCertificate } from '../../signing/key-store.js';
import { createTeam } from '../accounts/teams.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import type { StoreDeps } from './ids.js';
import type { Store } from './open.js';
import { listHeldCertificates, VaultSigningKeys } from './signing-keys.js';
import { describeStores } from './testing/dialects.js';

const deps: StoreDeps = {
  clock: new FakeClock(Date.parse('2026-11-29T00:00:00Z')),
  randomBytes: (n) => randomBytes(n),
};
const master = masterKeyOf(randomBytes(32));

function pemKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();
}
const held = (id: string, privateKeyPem: string): HeldCertificate => ({
  certificateId: id,
  certificateType: 'DISTRIBUTION',
  serialNumber: `SN-${id}`,
  expirationDate: '2027-11-29T00:00:00.000Z',
  certificateContent: 'MIIB',
  privateKeyPem,
  createdAt: '2026-11-29T00:00:00.000Z',
});
const secretCount = async (s: Store, teamId: string) =>
  (
    await s.db
      .selectFrom('secrets')
      .select('id')
      .where('team_id', '=', teamId)
      .where('kind', '=', 'signing-key')
      .execute()
  ).length;

describeStores('vault-backed signing keys', (ctx) => {
  it('keeps each key sealed per team: the other team neither sees, reads nor removes it', async () => {
    const s = ctx.store();
    const [a, b] = [await createTeam(s, deps, 'A'), await createTeam(s, deps, 'B')];
    const vault = new Vault(s, { current: master }, deps);
    const mine = new VaultSigningKeys(s, vault, deps, a.id);
    const theirs = new VaultSigningKeys(s, vault, deps, b.id);
    const pem = pemKey();
    await mine.save(held('CERT2', pem));
    await mine.save(held('CERT1', pemKey()));
    expect(await mine.ids()).toEqual(['CERT1', 'CERT2']);
    expect((await mine.get('CERT2'))?.privateKeyPem).toBe(pem);
    expect(await listHeldCertificates(s, a.id)).toContainEqual({
      certificateId: 'CERT2',
      certificateType: 'DISTRIBUTION',
      serialNumber: 'SN-CERT2',
      expirationDate: '2027-11-29T00:00:00.000Z',
      createdAt: '2026-11-29T00:00:00.000Z',
    });
    expect(await theirs.ids()).toEqual([]);
    expect(await theirs.get('CERT2')).toBeUndefined();
    expect(await theirs.remove('CERT2')).toBe(false);
    // The key is in no column: only the envelope holds it.
    const rows = JSON.stringify(await s.db.selectFrom('signing_certificates').selectAll().execute());
    expect(rows).not.toContain('PRIVATE KEY');
    expect(await mine.remove('CERT2')).toBe(true);
    expect(await mine.ids()).toEqual(['CERT1']);
    expect(await secretCount(s, a.id)).toBe(1);
  });

  it('saving a certificate again replaces its key and deletes the old secret', async () => {
    const s = ctx.store();
    const team = await createTeam(s, deps, 'C');
    const keys = new VaultSigningKeys(s, new Vault(s, { current: master }, deps), deps, team.id);
    await keys.save(held('CERT', pemKey()));
    const second = pemKey();
    await keys.save(held('CERT', second));
    expect((await keys.get('CERT'))?.privateKeyPem).toBe(second);
    expect(await secretCount(s, team.id)).toBe(1);
  });

  it('pending keys are kept per team until removed, with their secret', async () => {
    const s = ctx.store();
    const [a, b] = [await createTeam(s, deps, 'D'), await createTeam(s, deps, 'E')];
    const vault = new Vault(s, { current: master }, deps);
    const keys = new VaultSigningKeys(s, vault, deps, a.id);
    const pem = pemKey();
    await keys.savePending({ spki: 'SPKI-A', privateKeyPem: pem, createdAt: '2026-11-29T00:00:00.000Z' });
    expect(await keys.pending()).toEqual([
      { spki: 'SPKI-A', privateKeyPem: pem, createdAt: '2026-11-29T00:00:00.000Z' },
    ]);
    expect(await new VaultSigningKeys(s, vault, deps, b.id).pending()).toEqual([]);
    await new VaultSigningKeys(s, vault, deps, b.id).removePending('SPKI-A');
    expect(await keys.pending()).toHaveLength(1);
    await keys.removePending('SPKI-A');
    expect(await keys.pending()).toEqual([]);
    expect(await secretCount(s, a.id)).toBe(0);
  });
});
