import type { Generated } from 'kysely';

/**
 * Row types of the server's tables, the same for SQLite and PostgreSQL. Ids are text (`dep_…`), times ISO
 * strings, booleans 0/1, JSON documents text: values both drivers return identically (Kysely never converts
 * driver values; pg would return int8 as a string, SQLite has no boolean or date type).
 */
export interface Database {
  teams: TeamsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  sign_in_links: SignInLinksTable;
  secrets: SecretsTable;
  keys: KeysTable;
  apps: AppsTable;
  build_number_allocations: BuildNumberAllocationsTable;
  artifacts: ArtifactsTable;
  deploys: DeploysTable;
  deploy_events: DeployEventsTable;
  jobs: JobsTable;
  step_state: StepStateTable;
  audit_log: AuditLogTable;
  settings: SettingsTable;
  signing_certificates: SigningCertificatesTable;
  signing_pending_keys: SigningPendingKeysTable;
  alerts: AlertsTable;
  webhooks: WebhooksTable;
  webhook_events: WebhookEventsTable;
  notification_targets: NotificationTargetsTable;
  notification_events: NotificationEventsTable;
  notification_deliveries: NotificationDeliveriesTable;
  notification_attempts: NotificationAttemptsTable;
  worker_tokens: WorkerTokensTable;
}

export type Role = 'owner' | 'admin' | 'releaser' | 'viewer';
export const ROLES: readonly Role[] = ['owner', 'admin', 'releaser', 'viewer'];

export interface TeamsTable {
  id: string;
  name: string;
  created_at: string;
}

export interface UsersTable {
  id: string;
  /** Lower-cased; unique. */
  email: string;
  name: string;
  /** `scrypt$N$r$p$salt$hash`; null for a user who signs in by link only. */
  password_hash: string | null;
  created_at: string;
  disabled_at: string | null;
}

export interface MembershipsTable {
  team_id: string;
  user_id: string;
  role: Role;
  created_at: string;
}

export interface SessionsTable {
  id: string;
  /** SHA-256 of the cookie's token; the token itself is never stored. */
  token_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  ip: string | null;
  user_agent: string | null;
}

export interface ApiTokensTable {
  id: string;
  team_id: string;
  name: string;
  token_hash: string;
  /** The first characters, shown in lists so a person can tell tokens apart. */
  token_prefix: string;
  role: Role;
  created_by: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface SignInLinksTable {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface SecretsTable {
  id: string;
  team_id: string;
  kind: string;
  /** Which master key wrapped `wrapped_key` (its fingerprint), so rotation knows what to re-wrap. */
  master_key_id: string;
  wrapped_key: string;
  ciphertext: string;
  created_at: string;
  updated_at: string;
}

export interface KeysTable {
  id: string;
  team_id: string;
  name: string;
  key_id: string;
  issuer_id: string | null;
  individual: number;
  role: string | null;
  fingerprint: string;
  secret_id: string;
  created_at: string;
  last_checked_at: string | null;
}

export interface AppsTable {
  id: string;
  team_id: string;
  asc_app_id: string;
  bundle_id: string;
  name: string;
  key_ref: string | null;
  synced_at: string;
}

export interface BuildNumberAllocationsTable {
  id: string;
  team_id: string;
  app_id: string;
  version: string;
  platform: string;
  build_number: number;
  deploy_id: string | null;
  created_at: string;
}

export interface ArtifactsTable {
  id: string;
  team_id: string;
  sha256: string;
  /** bigint: PostgreSQL returns it as a string; repositories convert. */
  size: number | string;
  filename: string;
  facts: string;
  findings: string;
  created_by: string | null;
  created_at: string;
}

export type DeployState = 'queued' | 'running' | 'awaiting_approval' | 'succeeded' | 'failed' | 'cancelled';

export interface DeploysTable {
  id: string;
  team_id: string;
  artifact_id: string | null;
  key_ref: string | null;
  state: DeployState;
  options: string;
  steps: string;
  error: string | null;
  progress: number;
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  updated_at: string;
  ended_at: string | null;
  /** The build step's command, labels, glob and timeout as JSON (migration 008); never env values. */
  build?: string | null;
  /** The vault secret holding the build's env values (migration 008). */
  build_env_ref?: string | null;
}

export interface DeployEventsTable {
  seq: Generated<number | string>;
  deploy_id: string;
  team_id: string;
  type: string;
  data: string;
  created_at: string;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobsTable {
  id: string;
  kind: string;
  payload: string;
  state: JobState;
  run_at: string;
  lease_until: string | null;
  attempts: number;
  max_attempts: number;
  worker: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface StepStateTable {
  scope: string;
  key: string;
  value: string;
  updated_at: string;
}

export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditLogTable {
  seq: Generated<number | string>;
  id: string;
  team_id: string | null;
  at: string;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  outcome: AuditOutcome;
  detail: string | null;
}

export interface SettingsTable {
  team_id: string;
  key: string;
  value: string;
  updated_at: string;
}

/** A certificate whose private key the team's vault holds (`secret_id`, kind `signing-key`). */
export interface SigningCertificatesTable {
  team_id: string;
  certificate_id: string;
  certificate_type: string;
  serial_number: string;
  expiration_date: string;
  /** Base64 DER of the certificate as Apple issued it: public. */
  certificate_content: string;
  secret_id: string;
  created_at: string;
}

/** A key made for a certificate create that may not have finished (see PendingKey in src/signing). */
export interface SigningPendingKeysTable {
  team_id: string;
  /** SHA-256 hex of `spki`. */
  spki_hash: string;
  /** Base64 DER SubjectPublicKeyInfo: public. */
  spki: string;
  secret_id: string;
  created_at: string;
}

/** One episode of a monitor finding for a team's key (src/server/store/alerts.ts). */
export interface AlertsTable {
  id: string;
  team_id: string;
  key_ref: string;
  code: string;
  subject: string;
  severity: string;
  message: string;
  fix: string;
  expires_at: string | null;
  first_seen_at: string;
  last_seen_at: string;
  resolved_at: string | null;
}

/** An app's App Store Connect webhook (src/server/store/webhooks.ts); secrets are vault ids (`webhook-secret`). */
export interface WebhooksTable {
  id: string;
  team_id: string;
  app_ref: string;
  key_ref: string;
  asc_webhook_id: string | null;
  url: string;
  secret_id: string;
  previous_secret_id: string | null;
  previous_until: string | null;
  created_at: string;
  updated_at: string;
  last_event_at: string | null;
}

/** One accepted delivery, once per (webhook, Apple's event id). */
export interface WebhookEventsTable {
  id: string;
  webhook_ref: string;
  team_id: string;
  app_ref: string;
  event_id: string;
  event_type: string;
  resource_type: string | null;
  resource_id: string | null;
  state: string | null;
  received_at: string;
  handled_at: string | null;
}

/** A team's notification target; its URL and secret are the vault's (`secret_id`, kind `notify-secret`). */
export interface NotificationTargetsTable {
  id: string;
  team_id: string;
  /** 'slack' | 'webhook' */
  kind: string;
  name: string;
  /** JSON array of event types. */
  events: string;
  /** The URL's host only, for lists. */
  host: string;
  secret_id: string;
  created_by: string | null;
  created_at: string;
}

/** Something to tell the team about, once per `dedup_key` (src/server/notify/events.ts). */
export interface NotificationEventsTable {
  id: string;
  team_id: string;
  type: string;
  dedup_key: string;
  /** JSON, the event as sent (never a secret). */
  payload: string;
  created_at: string;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface NotificationDeliveriesTable {
  id: string;
  team_id: string;
  target_id: string;
  event_id: string;
  event_type: string;
  state: DeliveryState;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export interface NotificationAttemptsTable {
  id: string;
  team_id: string;
  delivery_id: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  started_at: string;
  ended_at: string;
}

/** A worker's bearer token (migration 007): serves every team, only on /api/v1/worker routes. */
export interface WorkerTokensTable {
  id: string;
  name: string;
  token_hash: string;
  token_prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}
