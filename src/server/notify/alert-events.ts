import { isoTime } from '../store/ids.js';
import type { Store } from '../store/open.js';
import type { AlertsTable } from '../store/schema.js';
import type { Notifier } from './notifier.js';
import type { AlertFacts } from './types.js';

function factsOf(r: AlertsTable): AlertFacts {
  return {
    id: r.id,
    keyRef: r.key_ref,
    code: r.code,
    subject: r.subject,
    severity: r.severity,
    message: r.message,
    fix: r.fix,
    firstSeenAt: r.first_seen_at,
    resolvedAt: r.resolved_at,
  };
}

/**
 * After a check of a key recorded its findings at `at`: one `alert.opened` per open alert and one
 * `alert.resolved` per alert that check resolved. The dedup keys are the alert's id, so an alert seen open by
 * every hourly check is notified once, and an open notification lost to a crash is sent by the next check.
 */
export async function notifyAlertChanges(
  store: Store,
  notifier: Notifier,
  teamId: string,
  keyRef: string,
  at: number,
): Promise<{ opened: number; resolved: number }> {
  const rows = await store.db
    .selectFrom('alerts')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('key_ref', '=', keyRef)
    .where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '=', isoTime(at))]))
    .execute();
  let opened = 0;
  let resolved = 0;
  for (const r of rows) {
    const isOpen = r.resolved_at === null;
    const type = isOpen ? 'alert.opened' : 'alert.resolved';
    const ids = await notifier.emit(teamId, {
      type,
      dedupKey: `alert:${r.id}:${isOpen ? 'opened' : 'resolved'}`,
      alert: factsOf(r),
    });
    if (ids.length > 0) isOpen ? opened++ : resolved++;
  }
  return { opened, resolved };
}
