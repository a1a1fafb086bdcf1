import { AscendError } from '../../core/errors.js';
import type { Finding } from '../../doctor/types.js';
import type { AppleGateway } from '../api/context.js';
import { notifyAlertChanges } from '../notify/alert-events.js';
import type { Notifier } from '../notify/notifier.js';
import { listAlerts, recordFindings } from '../store/alerts.js';
import type { StoreDeps } from '../store/ids.js';
import { listKeys, openKey } from '../store/keys.js';
import type { Store } from '../store/open.js';
import { listHeldCertificates } from '../store/signing-keys.js';
import type { Vault } from '../vault/vault.js';

/** What a check needs: the store, the vault to open the key, and Apple through the server's gateway. */
export interface MonitorDeps {
  store: Store;
  vault: Vault;
  deps: StoreDeps;
  apple: Pick<AppleGateway, 'findings'>;
  /** Tells the team about alerts opened and resolved (src/server/notify); none when absent. */
  notifier?: Notifier | undefined;
}

export interface KeyCheckResult {
  keyRef: string;
  findings: number;
  opened: number;
  resolved: number;
}

/**
 * Runs `ascend doctor`'s gather and checks for one of a team's keys, through the server's one client per
 * key, and records what it found as the key's alerts (src/server/store/alerts.ts).
 */
export async function checkKey(m: MonitorDeps, teamId: string, keyRef: string): Promise<KeyCheckResult> {
  const find = m.apple.findings?.bind(m.apple);
  if (!find) throw new AscendError('INTERNAL', 'this server cannot check keys');
  const key = await openKey(m.store, m.vault, teamId, keyRef);
  const held = async () => (await listHeldCertificates(m.store, teamId)).map((c) => c.certificateId);
  const findings = await find(key, held);
  const now = m.deps.clock.now();
  const r = await recordFindings(m.store, m.deps, teamId, keyRef, findings, now);
  if (m.notifier) await notifyAlertChanges(m.store, m.notifier, teamId, keyRef, now);
  return { keyRef, findings: findings.length, ...r };
}

/** Checks every key of a team, one after another (they share nothing but the team). */
export async function checkTeam(m: MonitorDeps, teamId: string): Promise<KeyCheckResult[]> {
  const results: KeyCheckResult[] = [];
  for (const k of await listKeys(m.store, teamId)) results.push(await checkKey(m, teamId, k.id));
  return results;
}

/** Findings that mean every request with the key fails: a deploy on it would only fail halfway. */
const BLOCKING: readonly Finding['code'][] = ['KEY_REJECTED', 'AGREEMENT_MISSING'];

/**
 * Refuses a deploy on a key whose latest check found it unusable. The open alerts are the latest check's
 * findings (recordFindings resolves the rest), so one read answers it; a key never checked is not blocked.
 */
export async function assertKeyUsable(store: Store, teamId: string, keyRef: string): Promise<void> {
  const open = await listAlerts(store, teamId, { state: 'open', keyRef });
  const blocking = open.find((a) => a.severity === 'error' && (BLOCKING as readonly string[]).includes(a.code));
  if (!blocking) return;
  throw new AscendError(
    'KEY_BLOCKED',
    `the key's latest check found ${blocking.code} (${blocking.subject}): ${blocking.message}`,
    {
      remedy: `${blocking.fix} Then run the check again (POST /api/v1/alerts/check).`,
      details: { alertId: blocking.id },
    },
  );
}
