import { AscendError } from '../../core/errors.js';
import { isoTime, newId, type StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import type { WorkerTokensTable } from '../store/schema.js';
import { LAST_USED_RESOLUTION_MS } from './api-tokens.js';
import { hashToken, looksLikeToken, newSecretToken } from './secret-tokens.js';

/**
 * Worker tokens: what `ascend worker` on another machine presents. A worker serves every team, so this is
 * not a team's API token: it is accepted only under /api/v1/worker, and a team's token is refused there.
 * Shown once, stored as SHA-256, revocable (`ascend server worker-token --revoke ID`).
 */
export interface WorkerTokenInfo {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

function infoOf(r: WorkerTokensTable): WorkerTokenInfo {
  return {
    id: r.id,
    name: r.name,
    prefix: r.token_prefix,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

export async function createWorkerToken(
  store: Store,
  deps: StoreDeps,
  input: { name: string },
): Promise<{ token: string; info: WorkerTokenInfo }> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 64 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new AscendError('USAGE', 'the worker token name must be 1–64 characters without control characters', {
      remedy: 'Name the token after the machine that uses it, e.g. "mac-mini-1".',
    });
  }
  const token = newSecretToken('ascw_', deps.randomBytes);
  const row: WorkerTokensTable = {
    id: newId('wtk', deps.randomBytes),
    name,
    token_hash: hashToken(token),
    token_prefix: token.slice(0, 11),
    created_at: isoTime(deps.clock.now()),
    last_used_at: null,
    revoked_at: null,
  };
  await store.db.insertInto('worker_tokens').values(row).execute();
  return { token, info: infoOf(row) };
}

/** The worker token's record, or WORKER_TOKEN_INVALID (a team's API token included); records its last use. */
export async function verifyWorkerToken(store: Store, deps: StoreDeps, token: string): Promise<WorkerTokenInfo> {
  if (!looksLikeToken(token, 'ascw_'))
    throw new AscendError(
      'WORKER_TOKEN_INVALID',
      token.startsWith('asc_')
        ? 'worker routes take a worker token, not a team’s API token'
        : 'the worker token is not valid (unknown or revoked)',
    );
  const row = await store.db
    .selectFrom('worker_tokens')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row || row.revoked_at !== null)
    throw new AscendError('WORKER_TOKEN_INVALID', 'the worker token is not valid (unknown or revoked)');
  const now = deps.clock.now();
  if (row.last_used_at === null || Date.parse(row.last_used_at) + LAST_USED_RESOLUTION_MS <= now) {
    row.last_used_at = isoTime(now);
    await store.db
      .updateTable('worker_tokens')
      .set({ last_used_at: row.last_used_at })
      .where('id', '=', row.id)
      .execute();
  }
  return infoOf(row);
}

export async function listWorkerTokens(store: Store): Promise<WorkerTokenInfo[]> {
  const rows = await store.db.selectFrom('worker_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(infoOf);
}

export async function revokeWorkerToken(store: Store, deps: StoreDeps, id: string): Promise<void> {
  const exists = await store.db.selectFrom('worker_tokens').select('id').where('id', '=', id).executeTakeFirst();
  if (!exists) throw new AscendError('RESOURCE_NOT_FOUND', `worker token ${id} was not found`);
  await store.db
    .updateTable('worker_tokens')
    .set({ revoked_at: isoTime(deps.clock.now()) })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}
