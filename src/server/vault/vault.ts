import { AscendError } from '../../core/errors.js';
import { isoTime, newId, type StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import { type Envelope, type Keyring, openEnvelope, rewrapEnvelope, sealEnvelope } from './envelope.js';
import type { MasterKey } from './master-key.js';

/** What a secret is for; part of its associated data, so a webhook secret cannot be opened as an API key. */
export type SecretKind =
  | 'asc-private-key'
  | 'signing-key'
  | 'p12-password'
  | 'webhook-secret'
  | 'notify-secret'
  | 'build-env';

const ownerOf = (teamId: string, id: string, kind: string) => `${teamId}|${id}|${kind}`;

/**
 * Secrets at rest (DESIGN §3.5): rows of the secrets table, each an envelope (envelope.ts). Every call is
 * scoped by team: another team's secret id is simply not found.
 */
export class Vault {
  /**
   * `reload` reads the key files again: after `ascend server rotate-master-key` swaps them, a running server
   * meets a secret wrapped by a key it has not loaded, reloads once and keeps working without a restart.
   */
  constructor(
    private readonly store: Store,
    private ring: Keyring,
    private readonly deps: StoreDeps,
    private readonly reload?: () => Promise<Keyring>,
  ) {}

  async seal(teamId: string, kind: SecretKind, plaintext: Buffer | string): Promise<string> {
    const id = newId('sec', this.deps.randomBytes);
    const env = sealEnvelope(this.ring.current, ownerOf(teamId, id, kind), toBuffer(plaintext), this.deps.randomBytes);
    const now = isoTime(this.deps.clock.now());
    await this.store.db
      .insertInto('secrets')
      .values({
        id,
        team_id: teamId,
        kind,
        master_key_id: env.masterKeyId,
        wrapped_key: env.wrappedKey,
        ciphertext: env.ciphertext,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return id;
  }

  /** The secret's bytes. The caller keeps them in memory only, never in a log, a response or a file. */
  async open(teamId: string, id: string): Promise<Buffer> {
    const row = await this.store.db
      .selectFrom('secrets')
      .selectAll()
      .where('team_id', '=', teamId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new AscendError('RESOURCE_NOT_FOUND', `secret ${id} was not found in this team`);
    try {
      return openEnvelope(this.ring, ownerOf(teamId, id, row.kind), envelopeOf(row));
    } catch (err) {
      if (!this.reload || !(err instanceof AscendError) || err.code !== 'VAULT_KEY_UNKNOWN') throw err;
      this.ring = await this.reload();
      return openEnvelope(this.ring, ownerOf(teamId, id, row.kind), envelopeOf(row));
    }
  }

  async delete(teamId: string, id: string): Promise<boolean> {
    const res = await this.store.db
      .deleteFrom('secrets')
      .where('team_id', '=', teamId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}

function toBuffer(v: Buffer | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

function envelopeOf(row: { master_key_id: string; wrapped_key: string; ciphertext: string }): Envelope {
  return { masterKeyId: row.master_key_id, wrappedKey: row.wrapped_key, ciphertext: row.ciphertext };
}

/**
 * Start-up check: every master key that wraps a stored secret must be loaded. Without it a server started
 * with the wrong ASCEND_MASTER_KEY would run until the first deploy needs a key, then fail there.
 */
export async function assertKeyringCoversSecrets(store: Store, ring: Keyring): Promise<void> {
  const rows = await store.db.selectFrom('secrets').select('master_key_id').distinct().execute();
  const loaded = new Set([ring.current.id, ...(ring.previous ?? []).map((k) => k.id)]);
  const missing = rows.map((r) => r.master_key_id).filter((id) => !loaded.has(id));
  if (missing.length > 0) {
    throw new AscendError(
      'VAULT_KEY_UNKNOWN',
      `stored secrets were sealed by master key ${missing.sort().join(', ')}, which is not loaded`,
    );
  }
}

export interface RotationResult {
  rewrapped: number;
  /** Secrets whose data key would not open under the old key (damaged); left untouched. */
  failed: string[];
}

/**
 * Re-wraps every data key sealed by `oldKey` under `newKey`, in batches, while the server keeps running: run
 * the server with both keys (ASCEND_MASTER_KEY = new, ASCEND_MASTER_KEY_PREVIOUS = old) during rotation, so
 * either wrapping opens. Payloads are not re-encrypted. Each row is updated only if it still holds the
 * wrapping that was read (compare-and-set), so a secret replaced meanwhile is not overwritten. Re-running
 * after an interruption continues with what is left.
 */
export async function rotateMasterKey(
  store: Store,
  oldKey: MasterKey,
  newKey: MasterKey,
  deps: StoreDeps,
  opts: { batchSize?: number; onBatch?: (done: number) => void } = {},
): Promise<RotationResult> {
  const batchSize = opts.batchSize ?? 100;
  const result: RotationResult = { rewrapped: 0, failed: [] };
  let after = '';
  for (;;) {
    const rows = await store.db
      .selectFrom('secrets')
      .selectAll()
      .where('master_key_id', '=', oldKey.id)
      .where('id', '>', after)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    if (rows.length === 0) return result;
    for (const row of rows) {
      let env: Envelope;
      try {
        env = rewrapEnvelope(oldKey, newKey, ownerOf(row.team_id, row.id, row.kind), envelopeOf(row), deps.randomBytes);
      } catch {
        result.failed.push(row.id);
        continue;
      }
      const res = await store.db
        .updateTable('secrets')
        .set({ master_key_id: env.masterKeyId, wrapped_key: env.wrappedKey, updated_at: isoTime(deps.clock.now()) })
        .where('id', '=', row.id)
        .where('master_key_id', '=', oldKey.id)
        .where('wrapped_key', '=', row.wrapped_key)
        .executeTakeFirst();
      result.rewrapped += Number(res.numUpdatedRows);
    }
    after = rows.at(-1)!.id;
    opts.onBatch?.(result.rewrapped);
  }
}
