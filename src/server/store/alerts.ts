import type { Finding } from '../../doctor/types.js';
import { isoTime, newId, type StoreDeps } from './ids.js';
import type { Store } from './open.js';
import type { AlertsTable } from './schema.js';

/** An alert as the API shows it (docs/SERVER.md, "Alerts"). */
export interface AlertRecord {
  id: string;
  teamId: string;
  keyRef: string;
  code: string;
  subject: string;
  severity: string;
  message: string;
  fix: string;
  expiresAt: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
  resolvedAt: string | null;
}

export type AlertState = 'open' | 'resolved';

function recordOf(r: AlertsTable): AlertRecord {
  return {
    id: r.id,
    teamId: r.team_id,
    keyRef: r.key_ref,
    code: r.code,
    subject: r.subject,
    severity: r.severity,
    message: r.message,
    fix: r.fix,
    expiresAt: r.expires_at,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    resolvedAt: r.resolved_at,
  };
}

const identity = (code: string, subject: string) => `${code}\u0000${subject}`;

/**
 * Records one check's findings for a team's key, in one transaction: a finding already open only has its
 * `last_seen_at` (and wording) refreshed, a new one opens a row, and every open alert of that key the check
 * no longer reports is resolved. A finding that comes back after being resolved opens a new row, so the
 * history of each episode stays.
 */
export async function recordFindings(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  keyRef: string,
  findings: readonly Finding[],
  now: number,
): Promise<{ opened: number; resolved: number }> {
  const at = isoTime(now);
  const seen = new Map<string, Finding>();
  for (const f of findings) seen.set(identity(f.code, f.subject), f);
  return store.db.transaction().execute(async (tx) => {
    const open = await tx
      .selectFrom('alerts')
      .selectAll()
      .where('team_id', '=', teamId)
      .where('key_ref', '=', keyRef)
      .where('resolved_at', 'is', null)
      .execute();
    const openIds = new Set(open.map((r) => identity(r.code, r.subject)));
    let resolved = 0;
    for (const row of open) {
      const f = seen.get(identity(row.code, row.subject));
      const update = f
        ? { last_seen_at: at, severity: f.severity, message: f.message, fix: f.fix, expires_at: f.expiresAt ?? null }
        : { resolved_at: at };
      if (!f) resolved++;
      await tx.updateTable('alerts').set(update).where('id', '=', row.id).execute();
    }
    let opened = 0;
    for (const [id, f] of seen) {
      if (openIds.has(id)) continue;
      opened++;
      await tx
        .insertInto('alerts')
        .values({
          id: newId('alr', deps.randomBytes),
          team_id: teamId,
          key_ref: keyRef,
          code: f.code,
          subject: f.subject,
          severity: f.severity,
          message: f.message,
          fix: f.fix,
          expires_at: f.expiresAt ?? null,
          first_seen_at: at,
          last_seen_at: at,
          resolved_at: null,
        })
        .execute();
    }
    return { opened, resolved };
  });
}

/** A team's alerts, open or resolved, most recently seen first; bounded by `limit`. */
export async function listAlerts(
  store: Store,
  teamId: string,
  opts: { state: AlertState; keyRef?: string; limit?: number },
): Promise<AlertRecord[]> {
  let q = store.db
    .selectFrom('alerts')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('resolved_at', opts.state === 'open' ? 'is' : 'is not', null);
  if (opts.keyRef !== undefined) q = q.where('key_ref', '=', opts.keyRef);
  const rows = await q
    .orderBy('last_seen_at', 'desc')
    .orderBy('id')
    .limit(Math.min(Math.max(opts.limit ?? 100, 1), 500))
    .execute();
  return rows.map(recordOf);
}
