import type { FastifyInstance } from 'fastify';
import { AscendError } from '../../../core/errors.js';
import { listApps } from '../../store/apps.js';
import { openKey } from '../../store/keys.js';
import { type ApiContext, principalOf } from '../context.js';
import type { BetaGroupView, Page } from '../types.js';

/** `GET /api/v1/apps/:id/groups`: the app's TestFlight groups as Apple lists them, read with the key that sees it. */
export function groupRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { id: string } }>('/api/v1/apps/:id/groups', async (req): Promise<Page<BetaGroupView>> => {
    const p = await principalOf(ctx, req);
    const appId = req.params.id.slice(0, 64);
    const found = (await listApps(ctx.store, p.teamId)).find((a) => a.ascAppId === appId || a.id === appId);
    // Only apps this team's keys see (synced): another team's app is not found.
    if (!found?.keyRef) throw new AscendError('RESOURCE_NOT_FOUND', `app ${appId} was not found in this team`);
    const list = ctx.apple.listGroups?.bind(ctx.apple);
    if (!list) throw new AscendError('INTERNAL', 'this server cannot list TestFlight groups');
    const groups = await list(await openKey(ctx.store, ctx.vault, p.teamId, found.keyRef), found.ascAppId);
    return { data: groups.map((g) => ({ id: g.id, name: g.name, isInternalGroup: g.isInternalGroup })), next: null };
  });
}
