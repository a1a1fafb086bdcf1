/**
 * Secret scrubbing for every log line, error message and document ascend prints. It replaces exactly the
 * secrets and never cuts the text around them: registered key material, whole PEM blocks (BEGIN to the
 * matching END), JWT-shaped tokens, Authorization header values, and the credential values in the query
 * strings of pre-signed URLs. A bare "-----BEGIN PRIVATE KEY-----" in a remedy, or Apple's own "signed
 * bearer token" text, is not a secret and stays as it is.
 */

// A whole block, also when its newlines arrive as literal "\n" (a common CI-secret accident) or JSON-escaped.
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]{1,40})-----[\s\S]*?-----END \1-----/g;
// A BEGIN line followed by what looks like key material but no END (a key cut short): the marker and the
// base64 run go, the text after the run stays.
const PEM_OPEN = /-----BEGIN [A-Z0-9 ]{1,40}-----(?=(?:\s|\\[nr])*[A-Za-z0-9+/]{40})(?:[A-Za-z0-9+/=\s]|\\[nr])+/g;
// Three base64url segments with a JSON header ("eyJ" is base64 of '{"').
const JWT = /\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+/g;
const AUTH_HEADER = /(\bauthorization["']?\s*[:=]\s*["']?(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+/gi;
// A bearer value that looks like a credential (long, no spaces); Apple's "signed bearer token" does not.
const BEARER_VALUE = /\b(Bearer\s+)(?=[A-Za-z0-9._~+/=-]{20,})[A-Za-z0-9._~+/=-]+/g;
// Credential parameters of pre-signed URLs (S3, Google Cloud Storage, CloudFront, our simulator's `sig`).
const SIGNED_PARAM =
  /([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Goog-Signature|X-Goog-Credential|Signature|sig|token|access_token|Policy|Key-Pair-Id)=)[^&\s"'<>#\\]+/gi;

export const REDACTED = '[REDACTED]';

export interface Redactor {
  (text: string): string;
  /** Registers an exact secret (e.g. a key's base64 body) that must never appear in output. */
  add(secret: string): void;
}

export function createRedactor(): Redactor {
  const secrets = new Set<string>();
  const redact = ((text: string) => {
    let out = text
      .replace(PEM_BLOCK, REDACTED)
      .replace(PEM_OPEN, REDACTED)
      .replace(JWT, REDACTED)
      .replace(AUTH_HEADER, `$1${REDACTED}`)
      .replace(BEARER_VALUE, `$1${REDACTED}`)
      .replace(SIGNED_PARAM, `$1${REDACTED}`);
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }) as Redactor;
  redact.add = (secret: string) => {
    if (secret.length >= 8) secrets.add(secret);
  };
  return redact;
}

/** Stateless redaction with the built-in patterns only. */
export const redact: (text: string) => string = createRedactor();
