/**
 * Secret scrubbing for every log line and error message: PEM blocks, JWTs, Authorization headers and the
 * query strings of pre-signed URLs (their signature is a bearer credential for the upload).
 */

const PEM = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g;
// A literal-\n PEM (a common CI-secret accident) is one line; the pattern above already spans it.
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
// Pre-signed URLs carry their credential in the query string (S3-, GCS- and our simulator's styles).
const SIGNED_QUERY =
  /\b(https?:\/\/[^\s?"'<>]+)\?([^\s"'<>]*(?:X-Amz-|X-Goog-|[?&]?sig=|[Ss]ignature=|token=|Expires=|Policy=)[^\s"'<>]*)/g;

export const REDACTED = '[REDACTED]';

export interface Redactor {
  (text: string): string;
  /** Registers an exact secret (e.g. a key's base64 body) that must never appear in output. */
  add(secret: string): void;
}

export function createRedactor(): Redactor {
  const secrets = new Set<string>();
  const redact = ((text: string) => {
    let out = text.replace(PEM, REDACTED).replace(JWT, REDACTED).replace(BEARER, `$1 ${REDACTED}`);
    out = out.replace(SIGNED_QUERY, `$1?${REDACTED}`);
    for (const s of secrets) if (s.length >= 8 && out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }) as Redactor;
  redact.add = (secret: string) => {
    if (secret.length >= 8) secrets.add(secret);
  };
  return redact;
}

/** Stateless redaction with the built-in patterns only. */
export const redact: (text: string) => string = createRedactor();
