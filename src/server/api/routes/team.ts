import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AscendError } from '../../../core/errors.js';
import { listAudit } from '../../store/audit.js';
import { getSettings, putSetting } from '../../store/settings.js';
import { requireRole } from '../auth.js';
import { type ApiContext, audit, parseBody, principalOf } from '../context.js';
import type { AuditEntry, Health, Page } from '../types.js';

const SettingsBody = z.record(z.string().regex(/^[a-z][a-zA-Z0-9_.-]{0,63}$/), z.unknown());

/** Health, the audit log and team settings. */
export function teamRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/api/v1/health',
    async (): Promise<Health> => ({
      status: 'ok',
      database: ctx.store.dialect,
      queue: ctx.queue.name,
      workers: ctx.queue.workers(),
    }),
  );

  app.get<{ Querystring: { cursor?: string; limit?: string } }>(
    '/api/v1/audit',
    async (req): Promise<Page<AuditEntry>> => {
      const p = await principalOf(ctx, req);
      requireRole(p, 'admin');
      const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
      return listAudit(ctx.store, p.teamId, {
        cursor: req.query.cursor ?? null,
        ...(limit === undefined ? {} : { limit }),
      });
    },
  );

  app.get('/api/v1/settings', async (req) => {
    const p = await principalOf(ctx, req);
    return getSettings(ctx.store, p.teamId);
  });

  app.put('/api/v1/settings', async (req) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    const body = parseBody(SettingsBody, req.body);
    // Targets hold credentials (a Slack URL is one): they live in the vault, behind their own routes.
    if (Object.keys(body).some((k) => /^notification/i.test(k)))
      throw new AscendError('USAGE', 'notification targets are not settings', {
        remedy: 'Use POST /api/v1/notifications/targets (docs/SERVER.md, "Notifications").',
      });
    for (const [key, value] of Object.entries(body)) await putSetting(ctx.store, ctx.deps, p.teamId, key, value);
    await audit(ctx, req, p, { action: 'settings.update', outcome: 'success', detail: { keys: Object.keys(body) } });
    return getSettings(ctx.store, p.teamId);
  });
}
