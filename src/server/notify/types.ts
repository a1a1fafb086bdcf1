import { NOTIFY_EVENTS } from '../api/types.js';

// The list is part of the API contract (the dashboard offers it); the server's modules take it from here.
export { NOTIFY_EVENTS };
export type NotifyEventType = (typeof NOTIFY_EVENTS)[number];

export type TargetKind = 'slack' | 'webhook';

/** The deploy part of an event: names the app and build, never a secret or an Apple URL. */
export interface DeployFacts {
  id: string;
  state: string;
  bundleId?: string;
  version?: string;
  buildNumber?: string;
  /** The step awaiting approval, or the step that produced this event. */
  step?: string;
  groups?: string[];
  error?: { code: string; message: string; remedy?: string };
}

export interface AlertFacts {
  id: string;
  keyRef: string;
  code: string;
  subject: string;
  severity: string;
  message: string;
  fix: string;
  firstSeenAt: string;
  resolvedAt: string | null;
}

/** One event as stored and as the generic webhook's body carries it. */
export interface NotifyEvent {
  id: string;
  type: NotifyEventType;
  createdAt: string;
  team: { id: string; name: string };
  deploy?: DeployFacts;
  alert?: AlertFacts;
}
