import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AscendError } from '../../../core/errors.js';
import { listDeliveries } from '../../notify/deliveries.js';
import { addTarget, getTarget, listTargets, removeTarget } from '../../notify/targets.js';
import { requireRole } from '../auth.js';
import { type ApiContext, audit, parseBody, principalOf } from '../context.js';
import type { Page } from '../types.js';

const AddBody = z.strictObject({
  kind: z.enum(['slack', 'webhook']),
  name: z.string().max(64),
  url: z.string().max(2048),
  secret: z.string().max(256).optional(),
  events: z.array(z.string().max(64)).max(20).optional(),
});

/**
 * Outgoing notification targets and their deliveries (docs/SERVER.md, "Notifications"). A target's URL and
 * secret go into the vault; no answer shows them again, except a generated secret in the 201, once.
 */
export function notificationRoutes(app: FastifyInstance, ctx: ApiContext, n: NonNullable<ApiContext['notify']>): void {
  app.get('/api/v1/notifications/targets', async (req) => {
    const p = await principalOf(ctx, req);
    return { data: await listTargets(ctx.store, p.teamId), next: null } satisfies Page<unknown>;
  });

  app.post('/api/v1/notifications/targets', async (req, reply) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    const body = parseBody(AddBody, req.body);
    try {
      const { target, secret } = await addTarget(ctx.store, ctx.vault, ctx.deps, n.policy, p.teamId, p.userId, body);
      await audit(ctx, req, p, {
        action: 'notify.target.add',
        outcome: 'success',
        target: { type: 'notification-target', id: target.id },
        detail: { name: target.name, kind: target.kind, host: target.host, events: target.events },
      });
      reply.status(201);
      return secret === null || body.secret !== undefined ? target : { ...target, secret };
    } catch (err) {
      const code = err instanceof AscendError ? err.code : 'INTERNAL';
      await audit(ctx, req, p, { action: 'notify.target.add', outcome: 'failure', detail: { kind: body.kind, code } });
      throw err;
    }
  });

  app.delete<{ Params: { id: string } }>('/api/v1/notifications/targets/:id', async (req, reply) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    const id = req.params.id.slice(0, 64);
    await removeTarget(ctx.store, ctx.vault, p.teamId, id);
    await audit(ctx, req, p, {
      action: 'notify.target.remove',
      outcome: 'success',
      target: { type: 'notification-target', id },
    });
    return reply.status(204).send();
  });

  /** "Send test": one `test` event to this target now, through the same queue and retries as the rest. */
  app.post<{ Params: { id: string } }>('/api/v1/notifications/targets/:id/test', async (req, reply) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    const target = await getTarget(ctx.store, p.teamId, req.params.id.slice(0, 64));
    const deliveryId = await n.notifier.sendTest(p.teamId, target.id);
    await audit(ctx, req, p, {
      action: 'notify.target.test',
      outcome: 'success',
      target: { type: 'notification-target', id: target.id },
    });
    reply.status(202);
    return { deliveryId };
  });

  app.get<{ Querystring: { targetId?: string; limit?: string } }>('/api/v1/notifications/deliveries', async (req) => {
    const p = await principalOf(ctx, req);
    const data = await listDeliveries(ctx.store, p.teamId, {
      ...(req.query.targetId ? { targetId: req.query.targetId.slice(0, 64) } : {}),
      ...(req.query.limit === undefined ? {} : { limit: Number(req.query.limit) || 50 }),
    });
    return { data, next: null } satisfies Page<unknown>;
  });
}
