import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type Clock, type Random, realSleep } from '../src/core/clock.js';
import { appStoreWrites } from './appstore-writes.js';
import { type AuthContext, authenticate } from './auth.js';
import {
  agreementMissing,
  methodNotAllowed,
  pathError,
  rateLimited,
  SimError,
  serverError,
  simError,
} from './errors.js';
import { drawFault, type FaultPlan } from './faults.js';
import type { QueryCtx } from './jsonapi.js';
import { registerProvisioning } from './provisioning/index.js';
import { HourlyQuota } from './quota.js';
import { genericGet } from './reads.js';
import { checkRole, type RoleRule } from './roles.js';
import type { Spec } from './spec.js';
import type { Store } from './store.js';
import { advanceReviews, testflightWrites } from './testflight-writes.js';
import { advance, commitFile, registerPartRoute, reserveFile, type UploadConfig } from './uploads.js';
import { validateBody, validateQuery } from './validate.js';
import { WRITES, type WriteHandler } from './writes.js';

export interface ServerDeps {
  spec: Spec;
  store: Store;
  clock: Clock;
  random: Random;
  roleRules: RoleRule[];
  quota: HourlyQuota;
  faults: FaultPlan[];
  latencyMs: number;
  publicUrl?: string;
  log: (line: string) => void;
  /** Counts requests per operation key, for tests and benchmarks (`GET /__sim/stats`). */
  stats: Map<string, number>;
  /** SHA-256 of every distinct token accepted, to measure how often clients mint (never the token itself). */
  tokensSeen: Set<string>;
  uploads: UploadConfig;
}

function baseUrlOf(req: FastifyRequest, deps: ServerDeps): string {
  return (deps.publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`).replace(/\/+$/, '');
}

function sendError(reply: FastifyReply, err: SimError): void {
  reply.code(err.status).header('content-type', 'application/json').send({ errors: err.errors });
}

/** Ends the connection without an answer: the client sees a reset (before or after the change was applied). */
function dropConnection(req: FastifyRequest, reply: FastifyReply): void {
  reply.hijack();
  req.raw.socket?.destroy();
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, exposeHeadRoutes: false });
  // Bodies are parsed here, not by fastify, so malformed JSON gets Apple's error body.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  // Part uploads are streamed straight to disk, never buffered (multi-GiB bodies).
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
  const writes: Record<string, WriteHandler> = {
    ...WRITES,
    ...testflightWrites(deps.uploads.reviewMs),
    ...appStoreWrites(deps.uploads.reviewMs),
    'POST /v1/buildUploadFiles': reserveFile(deps.uploads),
    'PATCH /v1/buildUploadFiles/{id}': commitFile(deps.uploads),
  };
  registerPartRoute(app, { ...deps, cfg: deps.uploads, onChange: () => deps.store.save() });
  registerProvisioning(app, deps, writes);

  app.get('/__sim/stats', async () => ({ requests: Object.fromEntries(deps.stats) }));

  app.all('/*', async (req, reply) => {
    if (deps.latencyMs > 0) await realSleep(deps.latencyMs);
    const url = new URL(req.url, 'http://sim.invalid');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const fault = drawFault(deps.faults, deps.random);
    if (fault === 'reset') return dropConnection(req, reply);
    let auth: AuthContext | undefined;
    try {
      auth = await authenticate(req.headers.authorization, {
        nowS: Math.floor(deps.clock.now() / 1000),
        findKey: (kid) => deps.store.keys.get(kid),
        onReject: (why) => deps.log(`401 ${req.method} ${path}: ${why}`),
      });
      const key = auth.key;
      deps.tokensSeen.add(
        createHash('sha256')
          .update(req.headers.authorization ?? '')
          .digest('hex'),
      );
      const moved = advance(deps.store, deps.clock, deps.uploads);
      if (advanceReviews(deps.store, deps.clock) || moved) deps.store.save();
      if (fault === '5xx') throw serverError();
      if (fault === '429' || !deps.quota.take(key.keyId)) throw rateLimited();
      reply.header('x-rate-limit', deps.quota.header(key.keyId));
      if (deps.store.teams.get(key.teamId)?.agreementsSigned === false) throw agreementMissing();

      const { op, pathParams, pathKnown } = deps.spec.match(req.method, path);
      if (!op) throw pathKnown ? methodNotAllowed(req.method) : pathError(path);
      deps.stats.set(op.key, (deps.stats.get(op.key) ?? 0) + 1);
      checkRole(deps.roleRules, key, op.key);
      validateQuery(op, url.searchParams, deps.spec);

      const ctx: QueryCtx = {
        baseUrl: baseUrlOf(req, deps),
        path,
        query: url.searchParams,
        spec: deps.spec,
        store: deps.store,
        visible: (r) => r.teamId === key.teamId,
      };
      let status = 200;
      let body: unknown;
      let headers: Record<string, string> = {};
      if (op.method === 'GET') {
        body = genericGet(op, pathParams, ctx);
      } else {
        const handler = writes[op.key];
        if (!handler)
          throw simError(501, 'NOT_IMPLEMENTED', 'Not implemented by the simulator', `${op.key} is not simulated yet`);
        let parsed: unknown;
        if (op.requestSchema) {
          const type = String(req.headers['content-type'] ?? '');
          if (!type.startsWith('application/json')) {
            throw simError(
              415,
              'ENTITY_INVALID',
              'The request entity is not valid.',
              'The content type must be application/json',
            );
          }
          try {
            parsed = JSON.parse(String(req.body ?? ''));
          } catch {
            throw simError(
              400,
              'ENTITY_INVALID',
              'The request entity is not valid.',
              'The request body is not valid JSON',
            );
          }
          validateBody(op, parsed, deps.spec);
          const id = (parsed as { data?: { id?: string } }).data?.id;
          // Only a resource PATCH carries its own id; a relationship PATCH carries the related resource's.
          if (op.method === 'PATCH' && /^\/v1\/[^/]+\/\{id\}$/.test(op.template) && id !== pathParams[0]) {
            throw simError(
              409,
              'ENTITY_ERROR.ID_MISMATCH',
              'The provided entity id does not match the URL',
              `'${String(id)}' is not '${pathParams[0]}'`,
              { pointer: '/data/id' },
            );
          }
        }
        const result = await handler({ ...ctx, body: parsed, pathParams, clock: deps.clock, teamId: key.teamId });
        deps.store.save();
        status = result.status;
        body = result.body;
        headers = result.headers ?? {};
      }
      if (fault === 'drop-response') return dropConnection(req, reply);
      reply.code(status).headers(headers);
      if (body === undefined) return reply.send();
      return reply.header('content-type', 'application/json').send(body);
    } catch (err) {
      if (err instanceof SimError) {
        if (auth && err.status !== 429) reply.header('x-rate-limit', deps.quota.header(auth.key.keyId));
        else if (auth)
          reply.header(
            'x-rate-limit',
            `user-hour-lim:${deps.quota.limit};user-hour-rem:${deps.quota.remaining(auth.key.keyId)};`,
          );
        return sendError(reply, err);
      }
      deps.log(`500 ${req.method} ${path}: ${(err as Error).stack ?? String(err)}`);
      return sendError(reply, serverError());
    }
  });
  return app;
}

export { HourlyQuota };
