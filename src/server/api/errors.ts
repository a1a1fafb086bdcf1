import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AscendError, CATALOGUE, type ErrorCode, EXIT } from '../../core/errors.js';
import { redact } from '../../core/redact.js';
import type { ErrorBody } from './types.js';

/** HTTP status per error code: the CLI's exit-code families (DESIGN §3.3) mapped to their HTTP meaning. */
const BY_EXIT: Record<number, number> = {
  [EXIT.usage]: 400,
  [EXIT.auth]: 401,
  [EXIT.notFound]: 404,
  [EXIT.conflict]: 409,
  [EXIT.validation]: 422,
  [EXIT.rejected]: 422,
  [EXIT.deadline]: 504,
  [EXIT.network]: 502,
  [EXIT.rateLimit]: 429,
  [EXIT.bug]: 500,
};
const SPECIAL: Partial<Record<ErrorCode, number>> = {
  PERMISSION_DENIED: 403,
  CSRF_INVALID: 403,
  ASC_FORBIDDEN: 403,
  ASC_FORBIDDEN_ROLE: 403,
  ASC_AGREEMENT_MISSING: 403,
  DATABASE_UNREACHABLE: 503,
  ARTIFACT_TOO_LARGE: 413,
  ARTIFACT_URL_INVALID: 403,
  RANGE_NOT_SATISFIABLE: 416,
};

export function httpStatusOf(code: ErrorCode): number {
  return SPECIAL[code] ?? BY_EXIT[CATALOGUE[code].exit] ?? 500;
}

/** Messages are one line, without control characters or anything secret-shaped (they are shown in browsers). */
function clean(text: string): string {
  return redact(text)
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .slice(0, 500);
}

export function errorBody(err: AscendError): ErrorBody {
  return { error: { code: err.code, message: clean(err.message), remedy: clean(err.remedy) } };
}

/**
 * One error handler for every route: an AscendError keeps its code; Fastify's own (bad JSON, schema, body
 * too large) become USAGE with its status; anything else is INTERNAL with no detail, since a stack or a
 * driver message can carry internals.
 */
export function handleError(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof AscendError) {
    reply.status(httpStatusOf(err.code)).send(errorBody(err));
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) {
    const e = new AscendError('USAGE', `the request is not valid: ${err.message}`, {
      remedy: 'Check the request against the API reference in docs/SERVER.md.',
    });
    reply.status(status).send(errorBody(e));
    return;
  }
  req.log.error({ err: clean(String(err.message)) }, 'unexpected error');
  reply.status(500).send(errorBody(new AscendError('INTERNAL', 'the server failed to answer this request')));
}
