import type { FastifyInstance } from 'fastify';
import { AscendError } from '../../../core/errors.js';
import { listApps, upsertApps } from '../../store/apps.js';
import { listKeys, openKey } from '../../store/keys.js';
import { requireRole } from '../auth.js';
import { type ApiContext, audit, principalOf } from '../context.js';
import type { Page } from '../types.js';
import { afterAppsSynced } from './webhooks.js';

/** Apps, synced from what each of the team's keys can see. */
export function appRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/apps', async (req) => {
    const p = await principalOf(ctx, req);
    return { data: await listApps(ctx.store, p.teamId), next: null } satisfies Page<unknown>;
  });

  app.post('/api/v1/apps/sync', async (req) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'releaser');
    const list = ctx.apple.listApps?.bind(ctx.apple);
    if (!list) throw new AscendError('INTERNAL', 'this server cannot list apps');
    for (const k of await listKeys(ctx.store, p.teamId)) {
      const apps = await list(await openKey(ctx.store, ctx.vault, p.teamId, k.id));
      await upsertApps(
        ctx.store,
        ctx.deps,
        p.teamId,
        apps.map((a) => ({ ...a, keyRef: k.id })),
      );
      await afterAppsSynced(
        ctx,
        req,
        p,
        k.id,
        apps.map((a) => a.ascAppId),
      );
    }
    await audit(ctx, req, p, { action: 'apps.sync', outcome: 'success' });
    return { data: await listApps(ctx.store, p.teamId), next: null } satisfies Page<unknown>;
  });

  app.get<{ Params: { id: string }; Querystring: { limit?: string } }>('/api/v1/apps/:id/builds', async (req) => {
    const p = await principalOf(ctx, req);
    const appId = req.params.id.slice(0, 64);
    const app = (await listApps(ctx.store, p.teamId)).find((a) => a.ascAppId === appId || a.id === appId);
    // Only apps this team's keys see (synced): another team's app is not found.
    if (!app?.keyRef) throw new AscendError('RESOURCE_NOT_FOUND', `app ${appId} was not found in this team`);
    const list = ctx.apple.listBuilds?.bind(ctx.apple);
    if (!list) throw new AscendError('INTERNAL', 'this server cannot list builds');
    const limit = Math.min(Math.max(Number(req.query.limit ?? 50) || 50, 1), 200);
    const builds = await list(await openKey(ctx.store, ctx.vault, p.teamId, app.keyRef), app.ascAppId, limit);
    return { data: builds, next: null } satisfies Page<unknown>;
  });
}
