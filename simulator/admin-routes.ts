import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { simError } from './errors.js';
import type { ServerDeps } from './server-deps.js';
import { advanceAll } from './state.js';

const ClockBody = z.union([z.object({ now: z.string() }).strict(), z.object({ advanceSeconds: z.number() }).strict()]);

/** Test and benchmark endpoints outside Apple's API (no token): request counts and the simulator's clock. */
export function registerAdminRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/__sim/stats', async () => ({ requests: Object.fromEntries(deps.stats) }));
  app.get('/__sim/clock', async () => ({ now: new Date(deps.simClock.now()).toISOString() }));
  app.post('/__sim/clock', async (req) => {
    const parsed = ClockBody.safeParse(req.body);
    if (!parsed.success)
      throw simError(
        400,
        'ENTITY_INVALID',
        'The request entity is not valid.',
        'Send {"now": ISO} or {"advanceSeconds": N}',
      );
    if ('now' in parsed.data) deps.simClock.set(parsed.data.now);
    else deps.simClock.advance(parsed.data.advanceSeconds);
    advanceAll(deps);
    deps.store.save();
    return { now: new Date(deps.simClock.now()).toISOString() };
  });
}
