import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { registerAdminRoutes } from './admin-routes.js';
import { apiHooks } from './api-hooks.js';
import { dropConnection } from './connection.js';
import { SimError, serverError, simError } from './errors.js';
import { registerHealth } from './health/index.js';
import type { QueryCtx } from './jsonapi.js';
import { registerPartRoute } from './part-route.js';
import { registerProvisioning } from './provisioning/index.js';
import { genericGet } from './reads.js';
import type { ServerDeps } from './server-deps.js';
import type { WriteHandler } from './write-helpers.js';
import { writeHandlers } from './write-registry.js';

export type { ServerDeps } from './server-deps.js';

function baseUrlOf(req: FastifyRequest, deps: ServerDeps): string {
  return (deps.publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`).replace(/\/+$/, '');
}

function errorHandler(deps: ServerDeps) {
  return (err: FastifyError | SimError, req: FastifyRequest, reply: FastifyReply) => {
    let sim: SimError;
    if (err instanceof SimError) sim = err;
    else if (err.statusCode && err.statusCode < 500)
      sim = simError(err.statusCode, 'ENTITY_INVALID', 'The request entity is not valid.', err.message.split('\n')[0]!);
    else {
      deps.log(`500 ${req.method} ${req.url.split('?')[0]}: ${err.stack ?? String(err)}`);
      sim = serverError();
    }
    const auth = req.api?.auth;
    if (auth) reply.header('x-rate-limit', deps.quota.header(auth.key.keyId));
    return reply.code(sim.status).header('content-type', 'application/json').send({ errors: sim.errors });
  };
}

/** Runs the operation the hooks matched: every GET generically, writes by their handler. */
function apiHandler(deps: ServerDeps, writes: Record<string, WriteHandler>) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { op, pathParams, path, url, auth } = req.api;
    const key = auth!.key;
    const ctx: QueryCtx = {
      baseUrl: baseUrlOf(req, deps),
      path,
      query: url.searchParams,
      spec: deps.spec,
      store: deps.store,
      visible: (r) => r.teamId === key.teamId,
    };
    reply.header('x-rate-limit', deps.quota.header(key.keyId));
    let result: { status: number; body?: unknown; headers?: Record<string, string> };
    if (op!.method === 'GET') result = { status: 200, body: genericGet(op!, pathParams, ctx) };
    else {
      const handler = writes[op!.key];
      if (!handler)
        throw simError(501, 'NOT_SIMULATED', 'The operation is not simulated', `${op!.key} is not simulated`);
      // The body was validated against the operation's schema by the body hook, so it has the handler's type.
      result = await handler({
        ...ctx,
        body: req.api.body as never,
        pathParams,
        clock: deps.simClock,
        teamId: key.teamId,
      });
      deps.store.save();
    }
    if (req.api.fault === 'drop-response') return dropConnection(req, reply);
    reply.code(result.status).headers(result.headers ?? {});
    if (result.body === undefined) return reply.send();
    return reply.header('content-type', 'application/json').send(result.body);
  };
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    exposeHeadRoutes: false,
    requestTimeout: deps.timeouts.requestMs,
    connectionTimeout: deps.timeouts.connectionMs,
  });
  app.setErrorHandler(errorHandler(deps));
  registerPartRoute(app, deps);
  registerAdminRoutes(app, deps);
  const writes = writeHandlers(deps);
  // Provisioning adds its own writes, keeps profile states current by the simulator's clock, serves its CA.
  registerProvisioning(app, { store: deps.store, clock: deps.simClock }, writes);
  // What `ascend doctor` looks for: agreements per team, key revocation, builds expiring, a Date header.
  registerHealth(app, { store: deps.store, clock: deps.simClock });
  // Webhooks add their writes; their deliveries follow the store's saves (simulator/webhooks/index.ts).
  Object.assign(writes, deps.webhooks.writes);
  app.register(async (api) => {
    // Bodies are parsed by the body hook, not by Fastify, so malformed JSON gets Apple's error body.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    const hooks = apiHooks(deps);
    api.route({
      method: ['GET', 'POST', 'PATCH', 'DELETE', 'PUT'],
      url: '/*',
      onRequest: [hooks.faults, hooks.auth],
      preHandler: [hooks.route, hooks.body],
      handler: apiHandler(deps, writes),
    });
  });
  return app;
}
