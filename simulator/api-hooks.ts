import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { realSleep } from '../src/core/clock.js';
import { type AuthContext, authenticate } from './auth.js';
import { dropConnection } from './connection.js';
import {
  agreementMissing,
  methodNotAllowed,
  notSimulated,
  pathNotFound,
  rateLimited,
  serverError,
  simError,
} from './errors.js';
import { drawFault, type FaultKind } from './faults.js';
import { checkRole } from './roles.js';
import { checkScope } from './scope.js';
import type { ServerDeps } from './server-deps.js';
import type { Operation } from './spec.js';
import { advanceAll } from './state.js';
import { validateBody, validateQuery } from './validate.js';

/** What the hooks learn about one API request, in the order they learn it. */
export interface ApiRequestState {
  url: URL;
  path: string;
  fault?: FaultKind;
  auth?: AuthContext;
  op?: Operation;
  pathParams: string[];
  body?: unknown;
}

declare module 'fastify' {
  interface FastifyRequest {
    api: ApiRequestState;
  }
}

/**
 * The App Store Connect routes' hooks, one concern each, in Fastify's order: faults and latency, then
 * authentication (token, scope, quota, agreements), then routing (operation, role, query), then the body.
 * A hook throws a SimError; the server's error handler turns it into Apple's error body.
 */
export function apiHooks(deps: ServerDeps) {
  /** onRequest: latency, and the fault drawn for this request (a reset closes the connection at once). */
  async function faults(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const url = new URL(req.url, 'http://sim.invalid');
    req.api = { url, path: url.pathname.replace(/\/+$/, '') || '/', pathParams: [] };
    if (deps.latencyMs > 0) await realSleep(deps.latencyMs);
    req.api.fault = drawFault(deps.faults, deps.random);
    if (req.api.fault === 'reset') dropConnection(req, reply);
  }

  /** onRequest: Apple's JWT rules, the token's scope, the hourly quota and the team's agreements. */
  async function auth(req: FastifyRequest): Promise<void> {
    const { path, url } = req.api;
    const auth = await authenticate(req.headers.authorization, {
      nowS: Math.floor(deps.clock.now() / 1000),
      findKey: (kid) => deps.store.keys.get(kid),
      onReject: (why) => deps.log(`401 ${req.method} ${path}: ${why}`),
    });
    req.api.auth = auth;
    deps.tokensSeen.add(
      createHash('sha256')
        .update(req.headers.authorization ?? '')
        .digest('hex'),
    );
    if (advanceAll(deps)) deps.store.save();
    if (req.api.fault === '5xx') throw serverError();
    if (req.api.fault === '429' || !deps.quota.take(auth.key.keyId)) throw rateLimited();
    checkScope(auth.scope, req.method, path, url.searchParams);
    if (deps.store.teams.get(auth.key.teamId)?.agreementsSigned === false) throw agreementMissing();
  }

  /** preHandler: the operation in Apple's file, the key's role, the query string. */
  async function route(req: FastifyRequest): Promise<void> {
    const { path, url } = req.api;
    const m = deps.spec.match(req.method, path);
    if (!m.op) {
      if (m.missing === 'not-simulated') throw notSimulated(m.appleKey ?? `${req.method} ${path}`);
      throw m.missing === 'method' ? methodNotAllowed(req.method) : pathNotFound();
    }
    deps.stats.set(m.op.key, (deps.stats.get(m.op.key) ?? 0) + 1);
    checkRole(deps.roleRules, req.api.auth!.key, m.op.key);
    validateQuery(m.op, url.searchParams, deps.spec);
    req.api.op = m.op;
    req.api.pathParams = m.pathParams;
  }

  /** preHandler: a request body must be JSON, JSON:API-shaped, valid by Apple's schema, with the URL's id. */
  async function body(req: FastifyRequest): Promise<void> {
    const op = req.api.op!;
    if (!op.requestSchema) return;
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
      throw simError(
        415,
        'ENTITY_INVALID',
        'The request entity is not valid.',
        'The content type must be application/json',
      );
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(req.body ?? ''));
    } catch {
      throw simError(400, 'ENTITY_INVALID', 'The request entity is not valid.', 'The request body is not valid JSON');
    }
    validateBody(op, parsed, deps.spec);
    const id = (parsed as { data?: { id?: string } }).data?.id;
    // Only a resource PATCH carries its own id; a relationship PATCH carries the related resource's.
    if (op.method === 'PATCH' && /^\/v1\/[^/]+\/\{id\}$/.test(op.template) && id !== req.api.pathParams[0]) {
      throw simError(
        409,
        'ENTITY_ERROR.ID_MISMATCH',
        'The provided entity id does not match the URL',
        `'${String(id)}' is not '${req.api.pathParams[0]}'`,
        { pointer: '/data/id' },
      );
    }
    req.api.body = parsed;
  }

  return { faults, auth, route, body };
}
