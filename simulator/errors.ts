import { randomUUID } from 'node:crypto';

/** One error object as Apple sends it (status is a string; code is dot-hierarchical). */
export interface ErrorObject {
  id: string;
  status: string;
  code: string;
  title: string;
  detail: string;
  source?: { pointer: string } | { parameter: string };
  meta?: Record<string, unknown>;
}

/** Thrown inside handlers; the server turns it into Apple's `{"errors":[…]}` body. */
export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly errors: ErrorObject[],
  ) {
    super(errors[0]?.detail ?? `HTTP ${status}`);
  }
}

export function errorObject(
  status: number,
  code: string,
  title: string,
  detail: string,
  source?: ErrorObject['source'],
): ErrorObject {
  return { id: randomUUID(), status: String(status), code, title, detail, ...(source ? { source } : {}) };
}

export function simError(
  status: number,
  code: string,
  title: string,
  detail: string,
  source?: ErrorObject['source'],
): SimError {
  return new SimError(status, [errorObject(status, code, title, detail, source)]);
}

// Wording as clients report Apple's bodies (fastlane#19072, fastlane/docs#1050).
export const notAuthorized = () =>
  simError(
    401,
    'NOT_AUTHORIZED',
    'Authentication credentials are missing or invalid.',
    'Provide a properly configured and signed bearer token, and make sure that it has not expired. Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens',
  );

export const forbiddenRole = () =>
  simError(
    403,
    'FORBIDDEN_ERROR',
    'This request is forbidden for security reasons',
    'The API key in use does not allow this request',
  );

export const agreementMissing = () =>
  simError(
    403,
    'FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED',
    'A required agreement is missing or has expired.',
    'This request requires an in-effect agreement that has not been signed or has expired.',
  );

export const notFound = (type: string, id: string) =>
  simError(
    404,
    'NOT_FOUND',
    'The specified resource does not exist',
    `There is no resource of type '${type}' with id '${id}'`,
  );

/** An invented path, as Apple answers it (live captures, e.g. `GET /v1/appGroups`). */
export const pathNotFound = () =>
  simError(
    404,
    'NOT_FOUND',
    'The specified resource does not exist',
    'The path provided does not match a defined resource type.',
  );

/** An operation Apple's OpenAPI file defines but this simulator does not: never a made-up 404 or 405. */
export const notSimulated = (opKey: string) =>
  simError(
    501,
    'NOT_SIMULATED',
    'The operation is not simulated',
    `${opKey} is defined by App Store Connect but not implemented by this simulator`,
  );

/** A token whose `scope` claim does not cover the request (wording of a live capture). */
export const scopeMismatch = (method: string, path: string, query: string | null, scopes: string[]) =>
  simError(
    403,
    'FORBIDDEN.REQUEST_DOES_NOT_MATCH_SCOPE',
    'This request does not match the scope specified in the API token.',
    `The request RequestData(method=${method}, path=${path}, query=${query ?? 'null'}) does not match any authorized scope: [${scopes.join(', ')}]`,
  );

export const methodNotAllowed = (method: string) =>
  simError(
    405,
    'METHOD_NOT_ALLOWED',
    'The request method is not valid for the resource path.',
    `The request method '${method}' is not valid for the resource path.`,
  );

export const rateLimited = () =>
  simError(
    429,
    'RATE_LIMIT_EXCEEDED',
    'The request rate limit has been reached.',
    'We’ve received too many requests for this API. Please wait and try again or slow down your request rate.',
  );

export const serverError = () =>
  simError(
    500,
    'UNEXPECTED_ERROR',
    'An unexpected error occurred.',
    'An unexpected error occurred on the server side. If this issue continues, contact us at https://developer.apple.com/contact/.',
  );

/** A 409 for a request that App Store Connect would refuse in the current state, with the offending member. */
export const conflict = (code: string, detail: string, pointer?: string) =>
  new SimError(409, [
    errorObject(
      409,
      code,
      'The request cannot be fulfilled in the current state.',
      detail,
      pointer ? { pointer } : undefined,
    ),
  ]);
