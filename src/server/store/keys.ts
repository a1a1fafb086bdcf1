import { createHash, createPublicKey } from 'node:crypto';
import { AscendError } from '../../core/errors.js';
import { validateIssuerId, validateKeyId, validatePrivateKey } from '../../credentials/key.js';
import type { ApiKey } from '../../credentials/types.js';
import type { Vault } from '../vault/vault.js';
import { isoTime, newId, type StoreDeps } from './ids.js';
import { isUniqueViolation, type Store } from './open.js';
import type { KeysTable } from './schema.js';

/** A team's App Store Connect key as every API answer shows it: metadata only, never the private key. */
export interface StoredKey {
  id: string;
  name: string;
  keyId: string;
  issuerId: string | null;
  individual: boolean;
  role: string | null;
  fingerprint: string;
  createdAt: string;
  lastCheckedAt: string | null;
}

export interface NewKey {
  name: string;
  keyId: string;
  issuerId?: string | null;
  individual?: boolean;
  privateKey: string;
  role?: string | null;
}

/** SHA-256 of the public key (SPKI DER): lets a person match a stored key to a .p8 without seeing either. */
export function keyFingerprint(privateKeyPem: string): string {
  const spki = createPublicKey(privateKeyPem).export({ format: 'der', type: 'spki' });
  return `SHA256:${createHash('sha256').update(spki).digest('base64').replace(/=+$/, '')}`;
}

/** Names as people type them in App Store Connect ("CI key"), without control characters. */
function validateName(name: string): string {
  const v = name.trim();
  if (v.length < 1 || v.length > 64 || /[\u0000-\u001f\u007f]/.test(v)) {
    throw new AscendError('KEY_NAME_INVALID', 'the key name must be 1–64 characters without control characters', {
      remedy: 'Use the name the key has in App Store Connect, e.g. "CI key".',
    });
  }
  return v;
}

function keyOf(row: KeysTable): StoredKey {
  return {
    id: row.id,
    name: row.name,
    keyId: row.key_id,
    issuerId: row.issuer_id,
    individual: row.individual === 1,
    role: row.role,
    fingerprint: row.fingerprint,
    createdAt: row.created_at,
    lastCheckedAt: row.last_checked_at,
  };
}

/** Validates the four fields as `keys add` does, seals the .p8 in the vault, and stores the metadata. */
export async function addKey(
  store: Store,
  vault: Vault,
  deps: StoreDeps,
  teamId: string,
  input: NewKey,
): Promise<StoredKey> {
  const name = validateName(input.name);
  const keyId = validateKeyId(input.keyId);
  const individual = Boolean(input.individual);
  const issuerId = individual ? null : validateIssuerId(input.issuerId ?? '');
  const { pem } = validatePrivateKey(input.privateKey, 'the private key (.p8)');
  const secretId = await vault.seal(teamId, 'asc-private-key', pem);
  const row: KeysTable = {
    id: newId('key', deps.randomBytes),
    team_id: teamId,
    name,
    key_id: keyId,
    issuer_id: issuerId,
    individual: individual ? 1 : 0,
    role: input.role ?? null,
    fingerprint: keyFingerprint(pem),
    secret_id: secretId,
    created_at: isoTime(deps.clock.now()),
    last_checked_at: null,
  };
  try {
    await store.db.insertInto('keys').values(row).execute();
  } catch (err) {
    // Leave nothing half-done: the sealed .p8 goes with the refused row.
    await vault.delete(teamId, secretId);
    if (isUniqueViolation(err)) throw new AscendError('RESOURCE_EXISTS', `a key named "${name}" exists in this team`);
    throw err;
  }
  return keyOf(row);
}

export async function listKeys(store: Store, teamId: string): Promise<StoredKey[]> {
  const rows = await store.db.selectFrom('keys').selectAll().where('team_id', '=', teamId).orderBy('name').execute();
  return rows.map(keyOf);
}

async function row(store: Store, teamId: string, id: string): Promise<KeysTable> {
  const r = await store.db
    .selectFrom('keys')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!r) throw new AscendError('RESOURCE_NOT_FOUND', `key ${id} was not found in this team`);
  return r;
}

export async function getKey(store: Store, teamId: string, id: string): Promise<StoredKey> {
  return keyOf(await row(store, teamId, id));
}

/** The key with its private part, for a worker about to call App Store Connect; never for a response. */
export async function openKey(store: Store, vault: Vault, teamId: string, id: string): Promise<ApiKey> {
  const r = await row(store, teamId, id);
  const pem = (await vault.open(teamId, r.secret_id)).toString('utf8');
  return {
    keyId: r.key_id,
    issuerId: r.issuer_id ?? undefined,
    privateKeyPem: pem,
    inHouse: false,
    sources: { keyId: 'server', issuerId: 'server', privateKey: 'server vault' },
    name: r.name,
  };
}

export async function recordKeyCheck(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  id: string,
  role: string | null,
): Promise<void> {
  await store.db
    .updateTable('keys')
    .set({ role, last_checked_at: isoTime(deps.clock.now()) })
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .execute();
}

export async function removeKey(store: Store, vault: Vault, teamId: string, id: string): Promise<void> {
  const r = await row(store, teamId, id);
  await store.db.deleteFrom('keys').where('team_id', '=', teamId).where('id', '=', id).execute();
  await vault.delete(teamId, r.secret_id);
}
