import type { Random } from './clock.js';

/**
 * The one policy for "may this request be sent again, and if a write's answer was lost, how is it settled".
 * The API client, the upload engine and the release steps all ask here, so the rules cannot drift apart.
 *
 * Apple's rules behind it (../docs/API_NOTES.md):
 * - A 429 is refused before App Store Connect acts on it, so any request may be re-sent after one.
 * - A 5xx or a request that got no answer may have been applied. Reads, and writes that set a value (PATCH of an
 *   attribute, PUT of a part's bytes at a fixed offset, adding a linkage, DELETE), are the same applied twice,
 *   so they are re-sent. A create (POST of a new resource) is never re-sent blindly: the caller reads what
 *   exists first ("reconcile") and sends it again only if it did not land.
 * - Apple documents no Retry-After; when a server sends one it is honoured, capped.
 */

/** How a request behaves when sent twice. */
export type RequestKind =
  /** GET/HEAD: no effect. */
  | 'read'
  /** Applying it twice is the same as once: PATCH of a value, PUT of part bytes, linkage add, DELETE. */
  | 'idempotent'
  /** Creates something new each time it is applied: POST of a resource. */
  | 'create';

/** What came back from one attempt. */
export type Outcome =
  | { kind: 'answer'; status: number; retryAfterMs?: number }
  /** No HTTP answer: reset, timeout, refused after sending. The request may or may not have been applied. */
  | { kind: 'no-answer' };

export type Decision =
  /** A final answer: hand it to the caller (success or an error that sending again cannot change). */
  | { action: 'final' }
  /** Send the same request again after `delayMs`. */
  | { action: 'resend'; delayMs: number }
  /** The write's effect is unknown: read the current state, and send it again only if it did not land. */
  | { action: 'reconcile' };

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** 429s wait longer: Apple documents no Retry-After and its short-window limits are undocumented. */
  rateLimitBaseDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  rateLimitBaseDelayMs: 2_000,
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The kind of a request by its method alone; callers that know better (a PATCH, a part PUT) say so. */
export function kindOfMethod(method: string): RequestKind {
  const m = method.toUpperCase();
  if (SAFE_METHODS.has(m)) return 'read';
  if (m === 'PUT' || m === 'PATCH' || m === 'DELETE') return 'idempotent';
  return 'create';
}

/** Full-jitter exponential backoff: a random delay in [ceiling/4, ceiling], ceiling = min(cap, base·2^n). */
export function backoffDelay(attempt: number, base: number, cap: number, random: Random): number {
  const ceiling = Math.min(cap, base * 2 ** attempt);
  return Math.round(ceiling / 4 + (random() * (ceiling * 3)) / 4);
}

/** True for answers that a later attempt may change: rate limits and server errors. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Decides what to do after attempt number `attempt` (0-based) of a request of `kind` ended in `outcome`.
 * Success and client errors are final; transient failures are re-sent while attempts remain, except that a
 * create whose effect is unknown (5xx, no answer) is reconciled instead.
 */
export function decide(
  kind: RequestKind,
  outcome: Outcome,
  attempt: number,
  policy: RetryPolicy,
  random: Random,
): Decision {
  const transient = outcome.kind === 'no-answer' || isTransientStatus(outcome.status);
  if (!transient) return { action: 'final' };
  const rateLimited = outcome.kind === 'answer' && outcome.status === 429;
  if (kind === 'create' && !rateLimited) return { action: 'reconcile' };
  if (attempt + 1 >= policy.maxAttempts) return { action: 'final' };
  const base = rateLimited ? policy.rateLimitBaseDelayMs : policy.baseDelayMs;
  const hinted = outcome.kind === 'answer' ? outcome.retryAfterMs : undefined;
  const delayMs = Math.min(policy.maxDelayMs * 4, hinted ?? backoffDelay(attempt, base, policy.maxDelayMs, random));
  return { action: 'resend', delayMs };
}

/**
 * How the HTTP layer treats a request: it knows only the method, so every write counts as a create there and
 * is re-sent only after a 429; the caller, which knows whether its write is idempotent, settles the rest.
 */
export function transportKind(method: string): 'read' | 'create' {
  return kindOfMethod(method) === 'read' ? 'read' : 'create';
}

/** Whether the HTTP layer itself may re-send after `outcome` (attempts and delays aside). */
export function transportMayResend(method: string, outcome: Outcome): boolean {
  if (transportKind(method) === 'read') return true;
  return outcome.kind === 'answer' && outcome.status === 429;
}

/** One entry of an error body as Apple sends it (JSON:API `errors[]`). */
export interface AppleErrorLike {
  code: string;
  title?: string;
  detail?: string;
  meta?: { associatedErrors?: Record<string, AppleErrorLike[]> };
}

/** Apple's codes are dot-hierarchical: a prefix matches itself and its children, nested errors included. */
export function hasAppleCode(errors: readonly AppleErrorLike[], prefix: string): boolean {
  const match = (e: AppleErrorLike): boolean =>
    e.code === prefix ||
    e.code.startsWith(`${prefix}.`) ||
    Object.values(e.meta?.associatedErrors ?? {}).some((list) => list.some(match));
  return errors.some(match);
}

export type ForbiddenFamily = 'agreement' | 'role' | 'other';

/**
 * Tells Apple's 403 families apart, by code first. An expired or missing agreement has its own code
 * (`FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED`). A role too weak for the request has only the generic
 * `FORBIDDEN_ERROR`, told by its detail ("The API key in use does not allow this request"); the text is the
 * fallback for both, since Apple's wording is all that separates them in some answers.
 */
export function forbiddenFamily(errors: readonly AppleErrorLike[]): ForbiddenFamily {
  if (hasAppleCode(errors, 'FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED')) return 'agreement';
  const text = errors.map((e) => `${e.title ?? ''} ${e.detail ?? ''}`).join(' ');
  if (/agreement/i.test(text)) return 'agreement';
  if (/does not allow|\brole\b|permission/i.test(text)) return 'role';
  return 'other';
}
