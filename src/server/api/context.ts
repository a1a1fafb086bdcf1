import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AscendError } from '../../core/errors.js';
import type { ApiKey } from '../../credentials/types.js';
import type { Finding } from '../../doctor/types.js';
import type { SigningKeys } from '../../signing/key-store.js';
import type { LoginLimiter } from '../accounts/login-limiter.js';
import type { ScryptParams } from '../accounts/passwords.js';
import type { AddressPolicy } from '../notify/address-policy.js';
import type { Notifier } from '../notify/notifier.js';
import type { ArtifactFiles } from '../store/artifact-files.js';
import { type AuditEntry, appendAudit } from '../store/audit.js';
import type { StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import type { Vault } from '../vault/vault.js';
import type { AppleWebhooks, HookReceiver, WebhookRegistration } from '../webhooks/types.js';
import { authenticate, type Principal } from './auth.js';
import type { SigningCertificateView, SigningEnsureSummary } from './types.js';

/**
 * The server's view of App Store Connect, injected so routes never build clients themselves and tests run
 * with fakes that fail on any unexpected call. `ascend server start` wires it to src/asc.
 */
export interface AppleGateway {
  /** Proves the key works (a read every role may do) and infers its role; throws Apple's error otherwise. */
  checkKey(key: ApiKey): Promise<{ role: string | null }>;
  /** Every build number Apple has for the train: builds and uploads still in flight. */
  buildNumbersInUse(key: ApiKey, train: { appId: string; version: string; platform: string }): Promise<string[]>;
  /** The apps the key can see, for the apps list (synced per key). */
  listApps?(key: ApiKey): Promise<{ ascAppId: string; bundleId: string; name: string }[]>;
  /** An app's builds, newest first (at most `limit`). */
  listBuilds?(
    key: ApiKey,
    appId: string,
    limit: number,
  ): Promise<{ id: string; buildNumber: string; processingState: string | null; uploadedDate: string | null }[]>;
  /** An app's TestFlight groups, for the dashboard's new-deploy form. */
  listGroups?(key: ApiKey, appId: string): Promise<{ id: string; name: string; isInternalGroup: boolean }[]>;
  /** Certificates and profiles (src/signing) with the team's vault as the key store. Absent: no signing routes. */
  signing?: SigningGateway;
  /** `ascend doctor`'s gather and checks for the key (src/doctor); the monitor records them. Absent: no checks. */
  findings?(key: ApiKey, heldCertificateIds: () => Promise<string[]>): Promise<Finding[]>;
  /** App Store Connect webhooks (incoming events, docs/SERVER.md). Absent: no webhooks are registered. */
  webhooks?: AppleWebhooks;
}

export interface SigningGateway {
  list(key: ApiKey, keys: SigningKeys): Promise<SigningCertificateView[]>;
  ensure(
    key: ApiKey,
    keys: SigningKeys,
    o: { bundleIdentifier: string; renewWithinDays: number; onWarning: (what: string) => void },
  ): Promise<SigningEnsureSummary>;
  revoke(key: ApiKey, keys: SigningKeys, certificateId: string): Promise<{ id: string; keyRemoved: boolean }>;
}

/** Inspects a stored upload as `ipa inspect --json` does; `ascend server start` wires it to src/ipa. */
export type ArtifactInspector = (path: string, filename: string) => Promise<{ facts: unknown; findings: unknown[] }>;

/** How deploy routes reach the queue and the workers of this process. */
export interface DeployControl {
  /** `run`: the deploy's run generation (worker/deploy-job.ts `runOf`); a job of another run does nothing. */
  enqueue(payload: { teamId: string; deployId: string; run?: number }): Promise<string>;
  /** Queues a deploy's build step for a worker with these labels (docs/SERVER.md, "Build steps"). */
  enqueueBuild?(
    payload: { teamId: string; deployId: string; run?: number },
    labels: readonly string[],
  ): Promise<string>;
  /**
   * Whether a queued or running job (deploy or build) of the deploy's current run will still run it; false
   * once the queue gave up on it, so the cancel route ends such a deploy itself. Absent: always assumed.
   */
  hasLiveJob?(d: import('../store/deploys.js').DeployRecord): Promise<boolean>;
  /** A build step's whole log, if this server keeps it (GET /api/v1/deploys/:id/build-log). */
  buildLog?(deployId: string): Promise<{ stream: Readable; size: number } | undefined>;
  /** Aborts a deploy running in this process at its next safe point; false if none runs here. */
  cancel(deployId: string): boolean;
  /** How often the event stream looks for new events. */
  pollMs: number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** What every route needs, built once at start (DESIGN §2: nothing global). */
export interface ApiContext {
  store: Store;
  vault: Vault;
  deps: StoreDeps;
  limiter: LoginLimiter;
  /** Secure cookies when the public URL is https. */
  secureCookies: boolean;
  queue: { name: string; workers(): number };
  apple: AppleGateway;
  artifacts: { files: ArtifactFiles; maxBytes: number; inspect: ArtifactInspector };
  /** Deploys: queued as jobs, cancelled through the process that runs them. Absent: no deploy routes. */
  deploys?: DeployControl;
  /** Incoming App Store Connect webhooks: where accepted events go. Absent: no `/hooks/apple` route. */
  hooks?: HookReceiver;
  /** With `--public-url`: apps' webhooks are registered at App Store Connect. Absent: none are. */
  webhookRegistration?: WebhookRegistration;
  /** Outgoing notifications (src/server/notify). Absent: no notification routes, nothing is sent. */
  notify?: { notifier: Notifier; policy: AddressPolicy };
  /** Routes for workers on other machines (`ascend worker`); absent: none. */
  worker?: import('./routes/worker.js').WorkerApi;
  /** Passwords' scrypt cost; tests lower it. */
  scrypt?: ScryptParams;
  /** Under `--sandbox`: the folder with the sandbox's second key and sample build (GET /api/v1/sandbox). */
  sandbox?: { dir: string };
}

export function principalOf(ctx: ApiContext, req: FastifyRequest): Promise<Principal> {
  return authenticate(ctx.store, ctx.deps, req);
}

/** The request body checked against a schema; the first problem is named in a one-line USAGE error. */
/** True when any string in the (size-bounded) JSON value holds a NUL, which PostgreSQL text cannot store. */
function hasNul(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return v.includes('\u0000');
  if (depth > 32 || v === null || typeof v !== 'object') return false;
  return Object.entries(v).some(([k, x]) => k.includes('\u0000') || hasNul(x, depth + 1));
}

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  // Refused on both databases alike, rather than stored by SQLite and failing on PostgreSQL.
  if (hasNul(body))
    throw new AscendError('USAGE', 'a text field holds a NUL character', {
      remedy: 'Remove the NUL (\\u0000) characters from the request.',
    });
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'the body';
  throw new AscendError('USAGE', `${where}: ${issue?.message ?? 'not valid'}`, {
    remedy: 'Check the request against the API reference in docs/SERVER.md.',
  });
}

/** Records a change in the audit log with who, from where and the outcome. */
export function audit(
  ctx: ApiContext,
  req: FastifyRequest,
  p: Principal | null,
  entry: Pick<AuditEntry, 'action' | 'outcome'> & Partial<Pick<AuditEntry, 'target' | 'detail' | 'teamId'>>,
): Promise<unknown> {
  return appendAudit(ctx.store, ctx.deps, {
    teamId: entry.teamId ?? p?.teamId ?? null,
    actor: p
      ? { type: p.kind === 'token' ? 'token' : 'user', id: p.kind === 'token' ? p.tokenId : p.userId }
      : { type: 'user', id: null },
    action: entry.action,
    target: entry.target ?? null,
    ip: req.ip,
    userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
    outcome: entry.outcome,
    detail: entry.detail ?? null,
  });
}
