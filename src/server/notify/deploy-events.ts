import { getArtifact } from '../store/artifacts.js';
import type { DeployRecord } from '../store/deploys.js';
import type { Store } from '../store/open.js';
import type { Notifier } from './notifier.js';
import type { DeployFacts, NotifyEventType } from './types.js';

/** A change of a running deploy that the worker reports to its one hook (src/server/worker/deploy-job.ts). */
export type DeployChange =
  | { kind: 'started' }
  | { kind: 'step'; step: string; status: string }
  | { kind: 'state'; state: 'awaiting_approval'; step: string }
  | { kind: 'state'; state: 'succeeded' }
  | { kind: 'state'; state: 'failed'; error: { code: string; message: string; remedy?: string }; seq: number };

export type DeployHook = (d: DeployRecord, change: DeployChange) => Promise<void>;

/**
 * Steps whose end (done, or found already done) is news. The build is "in TestFlight" once it is in its
 * groups; submitting it to external beta review is not news of its own (Apple's verdict comes later).
 */
const STEP_EVENTS: Record<string, NotifyEventType> = {
  process: 'deploy.processed',
  groups: 'deploy.in_testflight',
  submitReview: 'deploy.submitted_for_review',
};

/**
 * Which notification a deploy change is, and its dedup key. Keys name the happening (the deploy and the
 * step), so a resumed run that reports "process: already" again, or a re-queued job, notifies nobody twice;
 * a failure is keyed by its event's seq, so a retried deploy that fails again is news again.
 */
export function eventOf(d: DeployRecord, c: DeployChange): { type: NotifyEventType; key: string } | undefined {
  if (c.kind === 'started') return { type: 'deploy.started', key: `deploy:${d.id}:started` };
  if (c.kind === 'step') {
    const type = STEP_EVENTS[c.step];
    if (!type || (c.status !== 'done' && c.status !== 'already')) return undefined;
    return { type, key: `deploy:${d.id}:${c.step}` };
  }
  if (c.state === 'awaiting_approval')
    return { type: 'deploy.awaiting_approval', key: `deploy:${d.id}:awaiting:${c.step}` };
  if (c.state === 'succeeded') return { type: 'deploy.succeeded', key: `deploy:${d.id}:succeeded` };
  return { type: 'deploy.failed', key: `deploy:${d.id}:failed:${c.seq}` };
}

/** The app and build the deploy ships, from the inspected artifact; absent parts are left out. */
async function factsOf(store: Store, d: DeployRecord, c: DeployChange): Promise<DeployFacts> {
  const facts: DeployFacts = { id: d.id, state: c.kind === 'state' ? c.state : 'running' };
  try {
    const art = await getArtifact(store, d.teamId, d.artifactId ?? '');
    const app = (art.facts as { app?: { bundleId?: string; shortVersion?: string; buildVersion?: string } }).app;
    if (app?.bundleId) facts.bundleId = app.bundleId;
    if (app?.shortVersion) facts.version = app.shortVersion;
    if (app?.buildVersion) facts.buildNumber = app.buildVersion;
  } catch {
    // A deploy without its artifact still notifies, by id.
  }
  if (c.kind === 'step' || (c.kind === 'state' && c.state === 'awaiting_approval')) facts.step = c.step;
  if (c.kind === 'step' && c.step === 'groups') {
    const groups = (d.options as { groups?: unknown }).groups;
    if (Array.isArray(groups)) facts.groups = groups.filter((g): g is string => typeof g === 'string');
  }
  if (c.kind === 'state' && c.state === 'failed') facts.error = c.error;
  return facts;
}

/**
 * The deploy worker's one notification hook. A notification that cannot be stored is logged and dropped:
 * it must never fail or stall the deploy it reports on.
 */
export function deployNotifications(store: Store, notifier: Notifier, onError: (err: unknown) => void): DeployHook {
  return async (d, c) => {
    const ev = eventOf(d, c);
    if (!ev) return;
    try {
      await notifier.emit(d.teamId, { type: ev.type, dedupKey: ev.key, deploy: await factsOf(store, d, c) });
    } catch (err) {
      onError(err);
    }
  };
}
