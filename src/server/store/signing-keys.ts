import { createHash } from 'node:crypto';
import type { HeldCertificate, PendingKey, SigningKeys } from '../../signing/key-store.js';
import type { Vault } from '../vault/vault.js';
import { isoTime, type StoreDeps } from './ids.js';
import type { Store } from './open.js';
import type { SigningCertificatesTable } from './schema.js';

/** What the API may show of a held certificate: public facts only. */
export interface HeldCertificateInfo {
  certificateId: string;
  certificateType: string;
  serialNumber: string;
  expirationDate: string;
  createdAt: string;
}

const infoOf = (r: SigningCertificatesTable): HeldCertificateInfo => ({
  certificateId: r.certificate_id,
  certificateType: r.certificate_type,
  serialNumber: r.serial_number,
  expirationDate: r.expiration_date,
  createdAt: r.created_at,
});

const spkiHash = (spki: string) => createHash('sha256').update(spki).digest('hex');

/** Metadata of every certificate the team's vault holds a key for, by id; never a key. */
export async function listHeldCertificates(store: Store, teamId: string): Promise<HeldCertificateInfo[]> {
  const rows = await store.db
    .selectFrom('signing_certificates')
    .selectAll()
    .where('team_id', '=', teamId)
    .orderBy('certificate_id')
    .execute();
  return rows.map(infoOf);
}

/**
 * `ensureSigning`'s key store on the server: each private key (held or pending) is a `signing-key` secret
 * sealed in the team's vault, its public facts a row. Every query filters by team, so one team never sees,
 * reuses or removes another team's key, even when both teams' API keys reach the same Apple team.
 */
export class VaultSigningKeys implements SigningKeys {
  readonly home: string;

  constructor(
    private readonly store: Store,
    private readonly vault: Vault,
    private readonly deps: StoreDeps,
    private readonly teamId: string,
  ) {
    this.home = "the team's vault";
  }

  /** Seals the key, then stores the row; a replaced row's old secret is deleted, a refused row's new one too. */
  async save(entry: HeldCertificate): Promise<void> {
    const old = await this.row(entry.certificateId);
    const secretId = await this.vault.seal(this.teamId, 'signing-key', entry.privateKeyPem);
    const values = {
      certificate_type: entry.certificateType,
      serial_number: entry.serialNumber,
      expiration_date: entry.expirationDate,
      certificate_content: entry.certificateContent,
      secret_id: secretId,
      created_at: entry.createdAt || isoTime(this.deps.clock.now()),
    };
    try {
      await this.store.db
        .insertInto('signing_certificates')
        .values({ team_id: this.teamId, certificate_id: entry.certificateId, ...values })
        .onConflict((oc) => oc.columns(['team_id', 'certificate_id']).doUpdateSet(values))
        .execute();
    } catch (err) {
      await this.vault.delete(this.teamId, secretId);
      throw err;
    }
    if (old) await this.vault.delete(this.teamId, old.secret_id);
  }

  async savePending(entry: PendingKey): Promise<void> {
    const secretId = await this.vault.seal(this.teamId, 'signing-key', entry.privateKeyPem);
    try {
      await this.store.db
        .insertInto('signing_pending_keys')
        .values({
          team_id: this.teamId,
          spki_hash: spkiHash(entry.spki),
          spki: entry.spki,
          secret_id: secretId,
          created_at: entry.createdAt,
        })
        .execute();
    } catch (err) {
      await this.vault.delete(this.teamId, secretId);
      throw err;
    }
  }

  /** A key whose secret no longer opens is skipped, as the file store skips a half-written file. */
  async pending(): Promise<PendingKey[]> {
    const rows = await this.store.db
      .selectFrom('signing_pending_keys')
      .selectAll()
      .where('team_id', '=', this.teamId)
      .orderBy('spki_hash')
      .execute();
    const out: PendingKey[] = [];
    for (const r of rows) {
      try {
        const privateKeyPem = (await this.vault.open(this.teamId, r.secret_id)).toString('utf8');
        out.push({ spki: r.spki, privateKeyPem, createdAt: r.created_at });
      } catch {
        // damaged or missing secret: no certificate can be adopted with it
      }
    }
    return out;
  }

  async removePending(spki: string): Promise<void> {
    const r = await this.store.db
      .selectFrom('signing_pending_keys')
      .select('secret_id')
      .where('team_id', '=', this.teamId)
      .where('spki_hash', '=', spkiHash(spki))
      .executeTakeFirst();
    if (!r) return;
    await this.store.db
      .deleteFrom('signing_pending_keys')
      .where('team_id', '=', this.teamId)
      .where('spki_hash', '=', spkiHash(spki))
      .execute();
    await this.vault.delete(this.teamId, r.secret_id);
  }

  async get(id: string): Promise<HeldCertificate | undefined> {
    const r = await this.row(id);
    if (!r) return undefined;
    const privateKeyPem = (await this.vault.open(this.teamId, r.secret_id)).toString('utf8');
    return { ...infoOf(r), certificateContent: r.certificate_content, privateKeyPem };
  }

  async ids(): Promise<string[]> {
    return (await listHeldCertificates(this.store, this.teamId)).map((c) => c.certificateId);
  }

  async remove(id: string): Promise<boolean> {
    const r = await this.row(id);
    if (!r) return false;
    await this.store.db
      .deleteFrom('signing_certificates')
      .where('team_id', '=', this.teamId)
      .where('certificate_id', '=', id)
      .execute();
    await this.vault.delete(this.teamId, r.secret_id);
    return true;
  }

  private row(id: string): Promise<SigningCertificatesTable | undefined> {
    return this.store.db
      .selectFrom('signing_certificates')
      .selectAll()
      .where('team_id', '=', this.teamId)
      .where('certificate_id', '=', id)
      .executeTakeFirst();
  }
}
