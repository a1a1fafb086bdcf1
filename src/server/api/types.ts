/**
 * The HTTP API's contract types (DESIGN §3.5), shared with the dashboard: the web app imports only this
 * file. Plain data, no imports.
 */
export type Role = 'owner' | 'admin' | 'releaser' | 'viewer';

export interface ErrorBody {
  error: { code: string; message: string; remedy: string };
}

export interface Page<T> {
  data: T[];
  next: string | null;
}

export interface Health {
  status: 'ok';
  database: 'sqlite' | 'postgres';
  queue: string;
  workers: number;
}

export interface SessionInfo {
  user: { id: string; email: string; name: string };
  teams: { id: string; name: string; role: Role }[];
  csrfToken: string;
  expiresAt: string;
}

export interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Answer to POST /api/v1/tokens: the token itself appears here once and never again. */
export interface CreatedApiToken extends ApiToken {
  token: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: { type: string; id: string | null };
  action: string;
  target: { type: string; id: string } | null;
  ip: string | null;
  userAgent: string | null;
  outcome: 'success' | 'failure' | 'denied';
  detail: Record<string, unknown> | null;
}

export type DeployState = 'queued' | 'running' | 'awaiting_approval' | 'succeeded' | 'failed' | 'cancelled';

/** POST /api/v1/deploys: the `ascend deploy` flags as fields; unknown fields are refused. */
export interface CreateDeploy {
  /** An uploaded build; exactly one of artifactId and build. */
  artifactId?: string;
  /** A command that makes the build on a labelled worker first (docs/SERVER.md, "Build steps"). */
  build?: {
    /** argv, run without a shell; a string is run by `/bin/sh -c`. */
    command: string | string[];
    /** Relative folder inside the fresh working folder. */
    workdir?: string;
    /** Secret environment variables: stored in the vault, never returned, redacted from the log. */
    env?: Record<string, string>;
    /** Only a worker with all these labels runs it (at most 6). */
    labels?: string[];
    /** Glob of the one file the build makes, e.g. "build/*.ipa". */
    artifact: string;
    /** Seconds, 1 to 21600. */
    timeout: number;
  };
  /** A stored key's id (GET /api/v1/keys); the team's first key when absent. */
  keyId?: string;
  groups?: string[];
  whatsNew?: string;
  locale?: string;
  encryption?: 'exempt' | 'non-exempt';
  betaReview?: boolean;
  appStore?: boolean;
  submitReview?: boolean;
  release?: { type: 'MANUAL' | 'AFTER_APPROVAL' | 'SCHEDULED'; date?: string };
  phased?: boolean;
  /** Reads from Apple and logs what would be done (the plan), changing nothing. */
  dryRun?: boolean;
}

export interface Deploy {
  id: string;
  artifactId: string | null;
  keyId: string | null;
  state: DeployState;
  options: Record<string, unknown>;
  steps: {
    step: string;
    status: string;
    detail?: string | null;
    startedAt?: string | null;
    endedAt?: string | null;
    /** The build step's exit code and run time. */
    exitCode?: number | null;
    durationMs?: number;
  }[];
  error: { code: string; message: string; remedy?: string } | null;
  /** 0–1, the upload's share acknowledged by Apple. */
  progress: number;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  endedAt: string | null;
  /** The build step it starts with; its status, exit code and duration are the `build` entry of `steps`. */
  build?: {
    command: string | string[];
    workdir?: string;
    labels: string[];
    artifact: string;
    timeout: number;
    /** The env's names; values are never returned. */
    envNames: string[];
  };
}

/**
 * One Server-Sent Event of GET /api/v1/deploys/:id/events (`id:` is its seq, for Last-Event-ID):
 * `step` {step, status, detail?}, `progress` {sent, total}, `log` {text, step?} (a build step's log: its lines
 * joined by newlines, one event per batch), `approval` {step, by},
 * `state` {state, step?, error?}.
 */
export interface DeployEventMessage {
  seq: number;
  type: 'step' | 'progress' | 'log' | 'approval' | 'state';
  data: Record<string, unknown>;
  createdAt: string;
}

/** A certificate of the team as `GET /api/v1/signing` shows it: public facts only, never a key. */
export interface SigningCertificateView {
  certificateId: string;
  certificateType: string | null;
  serialNumber: string | null;
  expirationDate: string | null;
  keyHeld: boolean;
  /** False for a held key whose certificate Apple no longer lists (revoked elsewhere). */
  listedByApple: boolean;
  profiles: {
    id: string;
    name: string | null;
    bundleId: string | null;
    profileState: string | null;
    expirationDate: string | null;
  }[];
}

/** What `ensureSigning` did, without the private key or the profile's content. */
export interface SigningEnsureSummary {
  bundleId: { id: string; identifier: string; created: boolean };
  certificate: { id: string; serialNumber: string; expirationDate: string; created: boolean };
  profile: { id: string; name: string; uuid: string; expirationDate: string; created: boolean };
  changes: string[];
  revokedHeld: string[];
}

/** The answer of `POST /api/v1/signing/ensure`. */
export interface SigningEnsureAnswer extends SigningEnsureSummary {
  /** E.g. a certificate kept from an earlier run that stopped before saving its key. */
  warnings: string[];
}

/** What a team can be told about (DESIGN §3.6 "Outgoing"); a target subscribes to some or all of them. */
export const NOTIFY_EVENTS = [
  'deploy.started',
  'deploy.awaiting_approval',
  'deploy.processed',
  'deploy.in_testflight',
  'deploy.submitted_for_review',
  'deploy.succeeded',
  'deploy.failed',
  'alert.opened',
  'alert.resolved',
  'test',
] as const;

/** An outgoing notification target (`GET /api/v1/notifications/targets`): never its URL path, query or secret. */
export interface NotificationTarget {
  id: string;
  kind: 'slack' | 'webhook';
  name: string;
  /** Event types, e.g. `deploy.failed`, `alert.opened` (docs/SERVER.md, "Notifications"). */
  events: string[];
  /** The URL's host only. */
  host: string;
  createdAt: string;
}

/** One notification to one target, with every attempt (`GET /api/v1/notifications/deliveries`). */
export interface NotificationDelivery {
  id: string;
  targetId: string;
  eventId: string;
  event: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatus: number | null;
  /** `HTTP 500`, `TIMEOUT`, `ECONNREFUSED`, `ADDRESS_REFUSED`, … */
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
  history: { attempt: number; statusCode: number | null; error: string | null; startedAt: string; endedAt: string }[];
}

/** An app's App Store Connect webhook (`GET /api/v1/apps/:id/webhook`): never its secret. */
export interface AppWebhookView {
  id: string;
  appId: string;
  url: string;
  /** Apple holds it (Apple's webhook id is known). */
  registered: boolean;
  /** Apple's event types it is registered for. */
  eventTypes: string[];
  lastEventAt: string | null;
  /** Until then the secret before the last rotation is still accepted. */
  previousSecretValidUntil: string | null;
}

/** A stored App Store Connect key as `GET /api/v1/keys` shows it: never the private key. */
export interface ApiKeyView {
  id: string;
  name: string;
  keyId: string;
  issuerId: string | null;
  fingerprint: string;
  role: string | null;
  createdAt: string;
}

/** An app synced from what the team's keys see (`GET /api/v1/apps`). */
export interface AppView {
  id: string;
  ascAppId: string;
  bundleId: string;
  name: string;
  keyRef: string | null;
  syncedAt: string;
}

/** One of an app's builds at Apple (`GET /api/v1/apps/:id/builds`). */
export interface BuildView {
  id: string;
  buildNumber: string;
  processingState: string | null;
  uploadedDate: string | null;
}

/** A preflight finding: what is wrong, what breaks, how to fix it (as `ascend doctor` prints them). */
export interface FindingView {
  code: string;
  severity: string;
  subject?: string;
  message: string;
  fix: string;
  expiresAt?: string;
}

/** An uploaded build (`POST /api/v1/artifacts`): its digest, what inspection found, never a download link. */
export interface ArtifactView {
  id: string;
  sha256: string;
  size: number;
  filename: string;
  facts: Record<string, unknown> | null;
  findings: FindingView[];
  createdAt: string;
}

/** An open or resolved alert of the monitor (`GET /api/v1/alerts`). */
export interface AlertView {
  id: string;
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

/** A TestFlight group of an app, as Apple lists it (`GET /api/v1/apps/:id/groups`). */
export interface BetaGroupView {
  id: string;
  name: string;
  isInternalGroup: boolean;
}

/**
 * `GET /api/v1/sandbox` (only under `ascend server start --sandbox`): where the sandbox left a second key for
 * trying the add-key form, as Apple's download would (the .p8 file itself is never sent).
 */
export interface SandboxInfo {
  dir: string;
  keyFile: string;
  keyId: string;
  issuerId: string | null;
  sampleIpa: string;
}

/** A member of the team (`GET /api/v1/members`). */
export interface Member {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
}

/** Answer to `POST /api/v1/members`: the person's one-time sign-in link appears here once and never again. */
export interface AddedMember {
  member: Member;
  /** Only for a person new to the server; one who already has an account signs in as before (null). */
  signInPath: string | null;
  expiresAt: string | null;
}
