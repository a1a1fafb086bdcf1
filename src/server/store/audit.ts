import { AscendError } from '../../core/errors.js';
import { isoTime, newId, type StoreDeps } from './ids.js';
import { pageSize } from './json.js';
import type { Store } from './open.js';
import type { AuditLogTable, AuditOutcome } from './schema.js';

export interface AuditEntry {
  teamId: string | null;
  actor: { type: 'user' | 'token' | 'system' | 'worker'; id: string | null };
  /** Dotted verb such as `key.add`, `deploy.approve`, `session.sign_in`. */
  action: string;
  target?: { type: string; id: string } | null;
  ip?: string | null;
  userAgent?: string | null;
  outcome: AuditOutcome;
  detail?: Record<string, unknown> | null;
}

export interface AuditRecord extends Required<Omit<AuditEntry, 'detail'>> {
  id: string;
  at: string;
  detail: Record<string, unknown> | null;
}

const MAX_DETAIL = 16 * 1024;

/** What must never reach the audit log: it is kept forever and shown to every admin. */
const SECRET_SHAPES: [string, RegExp][] = [
  ['a PEM block', /-----BEGIN [A-Z0-9 ]+-----/],
  // Also as JSON escapes it, and base64 of "-----BEGIN" (a PEM passed through base64 once more).
  ['a base64 PEM', /LS0tLS1CRUdJTi/],
  ['an EC private key (DER in base64)', /MI[A-Za-z0-9+/]{1,3}AgEAMBMGByqGSM49/],
  ['a JWT', /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/],
  ['an ascend token', /\bascl?s?_[a-z2-7]{52}\b/],
  ['a pre-signed URL', /[?&](X-Amz-Signature|X-Goog-Signature|Signature|sig)=/i],
  ['an Authorization header', /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/i],
];

/** Refuses (AUDIT_DETAIL_SECRET) an entry whose text looks like a secret, naming only which kind. */
export function assertNoSecret(text: string): void {
  for (const [what, shape] of SECRET_SHAPES) {
    if (shape.test(text)) {
      throw new AscendError('AUDIT_DETAIL_SECRET', `an audit entry was refused: it holds what looks like ${what}`);
    }
  }
}

function bounded(v: string | null | undefined, max: number): string | null {
  return v == null ? null : v.slice(0, max);
}

/**
 * Appends one entry. There is no update or delete here, and the database refuses both with a trigger
 * (migration 001), so history cannot be rewritten by a stray query either.
 */
export async function appendAudit(store: Store, deps: StoreDeps, entry: AuditEntry): Promise<AuditRecord> {
  let detail = entry.detail ? JSON.stringify(entry.detail) : null;
  const text = [entry.action, entry.target?.id, entry.target?.type, entry.actor.id, entry.userAgent, detail].join('\n');
  assertNoSecret(text);
  if (detail && detail.length > MAX_DETAIL) detail = JSON.stringify({ truncated: true, bytes: detail.length });
  const row: Omit<AuditLogTable, 'seq'> = {
    id: newId('aud', deps.randomBytes),
    team_id: entry.teamId,
    at: isoTime(deps.clock.now()),
    actor_type: entry.actor.type,
    actor_id: bounded(entry.actor.id, 64),
    action: entry.action.slice(0, 64),
    target_type: bounded(entry.target?.type, 32),
    target_id: bounded(entry.target?.id, 128),
    ip: bounded(entry.ip, 64),
    user_agent: bounded(entry.userAgent, 256),
    outcome: entry.outcome,
    detail,
  };
  await store.db.insertInto('audit_log').values(row).execute();
  return recordOf(row);
}

function recordOf(r: Omit<AuditLogTable, 'seq'>): AuditRecord {
  return {
    id: r.id,
    teamId: r.team_id,
    at: r.at,
    actor: { type: r.actor_type as AuditEntry['actor']['type'], id: r.actor_id },
    action: r.action,
    target: r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null,
    ip: r.ip,
    userAgent: r.user_agent,
    outcome: r.outcome,
    detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
  };
}

/** Newest first, one page at a time; `next` is an opaque cursor (the last entry's sequence number). */
export async function listAudit(
  store: Store,
  teamId: string,
  opts: { limit?: number; cursor?: string | null } = {},
): Promise<{ data: AuditRecord[]; next: string | null }> {
  const limit = pageSize(opts.limit);
  let q = store.db.selectFrom('audit_log').selectAll().where('team_id', '=', teamId);
  if (opts.cursor) {
    const before = Number(opts.cursor);
    if (!Number.isSafeInteger(before) || before < 0) {
      throw new AscendError('USAGE', 'the audit cursor is not valid', {
        remedy: 'Use the `next` value of a previous page.',
      });
    }
    q = q.where('seq', '<', before);
  }
  const rows = await q
    .orderBy('seq', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const next = rows.length > limit ? String(page.at(-1)!.seq) : null;
  return { data: page.map(recordOf), next };
}
