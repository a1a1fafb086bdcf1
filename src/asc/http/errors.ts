import { AscendError, type ErrorCode } from '../../core/errors.js';
import { forbiddenFamily, hasAppleCode } from '../../core/policy.js';

/** One entry of Apple's `errors[]` array, kept whole. */
export interface AppleError {
  id?: string;
  status: string;
  code: string;
  title: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string; header?: string };
  meta?: { associatedErrors?: Record<string, AppleError[]>; [k: string]: unknown };
  links?: Record<string, unknown>;
}

/**
 * An error response from App Store Connect. Keeps Apple's whole body; codes are dot-hierarchical, so
 * predicates match by prefix (Apple: parsing-the-error-response-code).
 */
export class AscApiError extends AscendError {
  readonly status: number;
  readonly errors: AppleError[];
  readonly method: string;
  readonly path: string;

  constructor(method: string, path: string, status: number, errors: AppleError[]) {
    const first = errors[0];
    const what = first ? `${first.code}: ${first.detail ?? first.title}` : `HTTP ${status}`;
    super(codeFor(status, errors), `Apple answered ${status} to ${method} ${path} — ${oneLine(what)}`);
    this.name = 'AscApiError';
    this.status = status;
    this.errors = errors;
    this.method = method;
    this.path = path;
  }

  hasCode(prefix: string): boolean {
    return hasAppleCode(this.errors, prefix);
  }
  get isUnauthorized(): boolean {
    return this.status === 401;
  }
  get isNotFound(): boolean {
    return this.status === 404;
  }
  get isConflict(): boolean {
    return this.status === 409;
  }
  get isRateLimited(): boolean {
    return this.status === 429;
  }
  /** 403 for an agreement that needs accepting (by Apple's code; see core/policy.ts forbiddenFamily). */
  get isAgreementMissing(): boolean {
    return this.status === 403 && forbiddenFamily(this.errors) === 'agreement';
  }
  /** Apple's 403 for a key whose role does not allow the request ("The API key in use does not allow this request"). */
  get isForbiddenRole(): boolean {
    return this.status === 403 && forbiddenFamily(this.errors) === 'role';
  }
}

function codeFor(status: number, errors: AppleError[]): ErrorCode {
  if (status === 401) return 'ASC_UNAUTHORIZED';
  if (status === 403) {
    const family = forbiddenFamily(errors);
    return family === 'agreement'
      ? 'ASC_AGREEMENT_MISSING'
      : family === 'role'
        ? 'ASC_FORBIDDEN_ROLE'
        : 'ASC_FORBIDDEN';
  }
  if (status === 404) return 'ASC_NOT_FOUND';
  if (status === 409) return 'ASC_CONFLICT';
  if (status === 429) return 'ASC_RATE_LIMITED';
  if (status >= 500) return 'ASC_SERVER_ERROR';
  return 'ASC_REQUEST_INVALID';
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Parses an error body defensively: Apple answers some statuses (406, gateway errors) with plain text. */
export function parseAppleErrors(status: number, text: string): AppleError[] {
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(body.errors)) {
      return body.errors.filter((e): e is AppleError => typeof e === 'object' && e !== null && 'code' in e);
    }
  } catch {
    // not JSON; fall through
  }
  return [{ status: String(status), code: `HTTP_${status}`, title: text.slice(0, 200) || `HTTP ${status}` }];
}

/**
 * Why a request got no answer, in words: Node's fetch says "fetch failed" and hides the reason in `cause`;
 * it also refuses the WHATWG "bad ports" (1, 7, 9, …, 6000) outright with the bare text "bad port".
 */
function whyNoAnswer(cause: unknown, url: URL | undefined): string {
  const inner =
    cause instanceof Error ? ((cause.cause as (Error & { code?: string }) | undefined) ?? cause) : undefined;
  const code = (inner as { code?: string } | undefined)?.code;
  const port = url ? url.port || (url.protocol === 'https:' ? '443' : '80') : undefined;
  if (inner?.message === 'bad port')
    return `port ${port} is on the list of ports that fetch refuses to use (WHATWG "bad ports"); use another port`;
  if (code === 'ECONNREFUSED') return `connection refused: nothing listens on port ${port}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host name ${url?.hostname ?? ''} cannot be resolved`;
  return inner?.message ?? String(cause);
}

function urlOf(s: string | undefined): URL | undefined {
  try {
    return s === undefined ? undefined : new URL(s);
  } catch {
    return undefined;
  }
}

/** A network failure (no HTTP answer). `ambiguous` marks a write whose effect is unknown. */
export class AscNetworkError extends AscendError {
  readonly ambiguous: boolean;
  /** `url` names the host that did not answer: Apple's, or a simulator's given with --api-url. */
  constructor(method: string, path: string, cause: unknown, ambiguous: boolean, url?: string) {
    const u = urlOf(url);
    super(
      'NETWORK_ERROR',
      `${method} ${path} got no answer from ${u?.host ?? 'App Store Connect'}: ${whyNoAnswer(cause, u)}`,
      {
        cause,
      },
    );
    this.name = 'AscNetworkError';
    this.ambiguous = ambiguous;
  }
}
