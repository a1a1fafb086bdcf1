import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AscendError } from '../../../core/errors.js';
import { checkKey, checkTeam, type KeyCheckResult } from '../../monitor/monitor.js';
import { type AlertState, listAlerts } from '../../store/alerts.js';
import { getKey } from '../../store/keys.js';
import { requireRole } from '../auth.js';
import { type ApiContext, audit, parseBody, principalOf } from '../context.js';
import type { Page } from '../types.js';

const STATES: readonly AlertState[] = ['open', 'resolved'];
const CheckBody = z.object({ keyId: z.string().min(1).max(100).optional() }).strict();

/** The monitor's alerts (docs/SERVER.md, "Alerts"): what the latest checks of the team's keys found. */
export function alertRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { state?: string; limit?: string } }>('/api/v1/alerts', async (req) => {
    const p = await principalOf(ctx, req);
    const state = req.query.state ?? 'open';
    if (!(STATES as readonly string[]).includes(state))
      throw new AscendError('USAGE', `state must be one of ${STATES.join(', ')}`);
    const data = await listAlerts(ctx.store, p.teamId, {
      state: state as AlertState,
      ...(req.query.limit === undefined ? {} : { limit: Number(req.query.limit) || 100 }),
    });
    return { data, next: null } satisfies Page<unknown>;
  });

  /** Runs the hourly check now, for every key of the team or the one named. */
  app.post('/api/v1/alerts/check', async (req) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    const { keyId } = parseBody(CheckBody, req.body);
    const m = { store: ctx.store, vault: ctx.vault, deps: ctx.deps, apple: ctx.apple, notifier: ctx.notify?.notifier };
    let results: KeyCheckResult[];
    try {
      results = keyId
        ? [await checkKey(m, p.teamId, (await getKey(ctx.store, p.teamId, keyId)).id)]
        : await checkTeam(m, p.teamId);
    } catch (err) {
      const code = err instanceof AscendError ? err.code : 'INTERNAL';
      await audit(ctx, req, p, { action: 'alerts.check', outcome: 'failure', detail: { code } });
      throw err;
    }
    await audit(ctx, req, p, { action: 'alerts.check', outcome: 'success', detail: { keys: results.length } });
    return { data: results };
  });
}
