import { AscendError } from '../../core/errors.js';
import { isoTime, newId, type StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import type { ApiTokensTable, Role } from '../store/schema.js';
import { hashToken, looksLikeToken, newSecretToken } from './secret-tokens.js';
import { assertRole } from './teams.js';

/** An API token as lists show it: never the token, only its first characters. */
export interface ApiTokenInfo {
  id: string;
  teamId: string;
  name: string;
  prefix: string;
  role: Role;
  createdBy: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** last_used_at is written at most this often per token, so every CI request is not a database write. */
export const LAST_USED_RESOLUTION_MS = 60_000;

function infoOf(r: ApiTokensTable): ApiTokenInfo {
  return {
    id: r.id,
    teamId: r.team_id,
    name: r.name,
    prefix: r.token_prefix,
    role: r.role,
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

/** Returns the token once; only its SHA-256 is kept. */
export async function createApiToken(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  input: { name: string; role: Role; createdBy?: string | null; expiresAt?: string | null },
): Promise<{ token: string; info: ApiTokenInfo }> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 64 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new AscendError('USAGE', 'the token name must be 1–64 characters without control characters', {
      remedy: 'Name the token after what uses it, e.g. "GitHub Actions".',
    });
  }
  const token = newSecretToken('asc_', deps.randomBytes);
  const row: ApiTokensTable = {
    id: newId('tok', deps.randomBytes),
    team_id: teamId,
    name,
    token_hash: hashToken(token),
    token_prefix: token.slice(0, 10),
    role: assertRole(input.role),
    created_by: input.createdBy ?? null,
    created_at: isoTime(deps.clock.now()),
    expires_at: input.expiresAt ?? null,
    last_used_at: null,
    revoked_at: null,
  };
  await store.db.insertInto('api_tokens').values(row).execute();
  return { token, info: infoOf(row) };
}

/** The token's team and role, or API_TOKEN_INVALID; records when it was last used. */
export async function verifyApiToken(store: Store, deps: StoreDeps, token: string): Promise<ApiTokenInfo> {
  const invalid = () =>
    new AscendError('API_TOKEN_INVALID', 'the API token is not valid (unknown, revoked or expired)');
  if (!looksLikeToken(token, 'asc_')) throw invalid();
  const row = await store.db
    .selectFrom('api_tokens')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .executeTakeFirst();
  const now = deps.clock.now();
  if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= isoTime(now))) throw invalid();
  if (row.last_used_at === null || Date.parse(row.last_used_at) + LAST_USED_RESOLUTION_MS <= now) {
    row.last_used_at = isoTime(now);
    await store.db.updateTable('api_tokens').set({ last_used_at: row.last_used_at }).where('id', '=', row.id).execute();
  }
  return infoOf(row);
}

export async function listApiTokens(store: Store, teamId: string): Promise<ApiTokenInfo[]> {
  const rows = await store.db
    .selectFrom('api_tokens')
    .selectAll()
    .where('team_id', '=', teamId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(infoOf);
}

export async function revokeApiToken(store: Store, deps: StoreDeps, teamId: string, id: string): Promise<void> {
  const res = await store.db
    .updateTable('api_tokens')
    .set({ revoked_at: isoTime(deps.clock.now()) })
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) {
    const exists = await store.db
      .selectFrom('api_tokens')
      .select('id')
      .where('team_id', '=', teamId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!exists) throw new AscendError('RESOURCE_NOT_FOUND', `API token ${id} was not found in this team`);
  }
}
