import Fastify, { type FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import { handleError } from './errors.js';
import { artifactRoutes } from './routes/artifacts.js';
import { keyRoutes } from './routes/keys.js';
import { sessionRoutes } from './routes/session.js';
import { teamRoutes } from './routes/team.js';
import { tokenRoutes } from './routes/tokens.js';

/**
 * The server's HTTP API (DESIGN §3.5) as a Fastify instance; `ascend server start` listens with it, tests
 * use `inject()`. Every route authenticates itself through principalOf(), so a route cannot forget to.
 */
export function buildApi(ctx: ApiContext, opts: { trustProxy?: boolean } = {}): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 256 * 1024,
    exposeHeadRoutes: false,
    trustProxy: opts.trustProxy ?? false,
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({
      error: {
        code: 'RESOURCE_NOT_FOUND',
        message: `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`,
        remedy: 'Check the path against docs/SERVER.md.',
      },
    });
  });
  teamRoutes(app, ctx);
  sessionRoutes(app, ctx);
  tokenRoutes(app, ctx);
  keyRoutes(app, ctx);
  artifactRoutes(app, ctx);
  return app;
}
