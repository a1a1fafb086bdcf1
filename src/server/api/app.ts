import Fastify, { type FastifyInstance } from 'fastify';
import { AscendError } from '../../core/errors.js';
import type { ApiContext } from './context.js';
import { handleError } from './errors.js';
import { alertRoutes } from './routes/alerts.js';
import { appRoutes } from './routes/apps.js';
import { artifactRoutes } from './routes/artifacts.js';
import { deployRoutes } from './routes/deploys.js';
import { groupRoutes } from './routes/groups.js';
import { homeRoutes } from './routes/home.js';
import { hookRoutes } from './routes/hooks.js';
import { keyRoutes } from './routes/keys.js';
import { memberRoutes } from './routes/members.js';
import { notificationRoutes } from './routes/notifications.js';
import { sandboxRoutes } from './routes/sandbox.js';
import { sessionRoutes } from './routes/session.js';
import { signingRoutes } from './routes/signing.js';
import { teamRoutes } from './routes/team.js';
import { tokenRoutes } from './routes/tokens.js';
import { webhookRoutes } from './routes/webhooks.js';
import { workerRoutes } from './routes/worker.js';

/** Where a credential could appear in a pino line: request headers and the key fields of bodies. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'privateKey',
  'password',
  'token',
  '*.privateKey',
  '*.password',
  '*.token',
] as const;

/**
 * The server's HTTP API (DESIGN §3.5) as a Fastify instance; `ascend server start` listens with it, tests
 * use `inject()`. Every route authenticates itself through principalOf(), so a route cannot forget to.
 */
export function buildApi(
  ctx: ApiContext,
  opts: { trustProxy?: boolean; log?: { write(line: string): void } } = {},
): FastifyInstance {
  const app = Fastify({
    // pino, redacted: credentials travel in these headers and fields, and must never reach a log line.
    logger: opts.log
      ? {
          level: 'info',
          stream: opts.log,
          redact: { paths: [...REDACTED_PATHS], censor: '[REDACTED]' },
          serializers: {
            // The one-time sign-in link carries its token in the path; query strings may carry anything.
            req: (req: { method: string; url: string; ip?: string }) => ({
              method: req.method,
              url: req.url.replace(/^\/sign-in\/[^/?#]+/, '/sign-in/[REDACTED]').split('?')[0],
              ip: req.ip,
            }),
          },
        }
      : false,
    requestTimeout: 120_000,
    connectionTimeout: 30_000,
    keepAliveTimeout: 5_000,
    routerOptions: { maxParamLength: 200 },
    bodyLimit: 256 * 1024,
    exposeHeadRoutes: false,
    trustProxy: opts.trustProxy ?? false,
  });
  app.setErrorHandler(handleError);
  // A NUL or other control character in the path or query is never part of an id: refused before any
  // route, so no database sees it (PostgreSQL text cannot hold a NUL).
  app.addHook('onRequest', async (req) => {
    if (/%(?:0[0-9a-f]|1[0-9a-f]|7f)/i.test(req.url))
      throw new AscendError('USAGE', 'the URL holds a control character', {
        remedy: 'Check the id in the path; ids are letters, digits and underscores.',
      });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({
      error: {
        code: 'RESOURCE_NOT_FOUND',
        message: `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`,
        remedy: 'Check the path against docs/SERVER.md.',
      },
    });
  });
  homeRoutes(app);
  sandboxRoutes(app, ctx);
  teamRoutes(app, ctx);
  sessionRoutes(app, ctx);
  tokenRoutes(app, ctx);
  memberRoutes(app, ctx);
  keyRoutes(app, ctx);
  artifactRoutes(app, ctx);
  appRoutes(app, ctx);
  groupRoutes(app, ctx);
  alertRoutes(app, ctx);
  if (ctx.deploys) deployRoutes(app, ctx, ctx.deploys);
  if (ctx.apple.signing) signingRoutes(app, ctx, ctx.apple.signing);
  if (ctx.hooks) hookRoutes(app, ctx, ctx.hooks);
  webhookRoutes(app, ctx);
  if (ctx.notify) notificationRoutes(app, ctx, ctx.notify);
  if (ctx.worker) workerRoutes(app, ctx, ctx.worker);
  return app;
}
