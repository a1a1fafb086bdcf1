import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AscendError } from '../../../core/errors.js';
import { listApps } from '../../store/apps.js';
import { webhookOfApp } from '../../store/webhooks.js';
import { EVENT_TYPES } from '../../webhooks/payload.js';
import { type RegistrarEnv, removeWebhooksOfKey, rotateWebhookSecret, syncWebhooks } from '../../webhooks/registrar.js';
import type { Principal } from '../auth.js';
import { requireRole } from '../auth.js';
import { type ApiContext, audit, principalOf } from '../context.js';
import type { AppWebhookView } from '../types.js';

/** The registrar, when this server registers webhooks (a public URL and Apple's webhooks API). */
function registrarOf(ctx: ApiContext): RegistrarEnv | undefined {
  const apple = ctx.apple.webhooks;
  const reg = ctx.webhookRegistration;
  if (!apple || !reg) return undefined;
  return { store: ctx.store, vault: ctx.vault, deps: ctx.deps, apple, publicUrl: reg.publicUrl, graceMs: reg.graceMs };
}

const codeOf = (err: unknown) => (err instanceof AscendError ? err.code : 'INTERNAL');

/**
 * After the apps of a key were synced: its apps' webhooks are brought in line (docs/SERVER.md, "Incoming
 * webhooks"). A failure here does not fail the apps sync: it is audited and logged, deploys fall back to
 * polling, and the next sync tries again.
 */
export async function afterAppsSynced(
  ctx: ApiContext,
  req: FastifyRequest,
  p: Principal,
  keyRef: string,
  visibleAscAppIds: readonly string[],
): Promise<void> {
  const env = registrarOf(ctx);
  if (!env) return;
  try {
    const summary = await syncWebhooks(env, p.teamId, keyRef, visibleAscAppIds);
    await audit(ctx, req, p, {
      action: 'webhooks.sync',
      outcome: 'success',
      target: { type: 'key', id: keyRef },
      detail: { ...summary },
    });
  } catch (err) {
    req.log.warn({ keyRef, code: codeOf(err) }, 'webhook sync failed');
    await audit(ctx, req, p, {
      action: 'webhooks.sync',
      outcome: 'failure',
      target: { type: 'key', id: keyRef },
      detail: { code: codeOf(err) },
    });
  }
}

/** Before a key is removed: its webhooks go, at Apple while the key still works, and here with their secrets. */
export async function beforeKeyRemoved(ctx: ApiContext, p: Principal, keyRef: string): Promise<void> {
  await removeWebhooksOfKey({ store: ctx.store, vault: ctx.vault, apple: ctx.apple.webhooks }, p.teamId, keyRef);
}

/** An app of the caller's team by our id or Apple's; another team's app is not found. */
async function teamApp(ctx: ApiContext, p: Principal, id: string) {
  const app = (await listApps(ctx.store, p.teamId)).find((a) => a.id === id || a.ascAppId === id);
  if (!app) throw new AscendError('RESOURCE_NOT_FOUND', `app ${id} was not found in this team`);
  return app;
}

/** An app's webhook as the API shows it: never its secret. */
export function webhookRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { id: string } }>('/api/v1/apps/:id/webhook', async (req): Promise<AppWebhookView> => {
    const p = await principalOf(ctx, req);
    const a = await teamApp(ctx, p, req.params.id.slice(0, 64));
    const w = await webhookOfApp(ctx.store, p.teamId, a.id);
    if (!w) throw new AscendError('RESOURCE_NOT_FOUND', `app ${a.id} has no webhook`);
    const now = ctx.deps.clock.now();
    return {
      id: w.id,
      appId: a.id,
      url: w.url,
      registered: w.ascWebhookId !== null,
      eventTypes: [...EVENT_TYPES],
      lastEventAt: w.lastEventAt,
      previousSecretValidUntil:
        w.previousUntil !== null && w.previousUntil > now ? new Date(w.previousUntil).toISOString() : null,
    };
  });

  app.post<{ Params: { id: string } }>('/api/v1/apps/:id/webhook/rotate', async (req) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    const a = await teamApp(ctx, p, req.params.id.slice(0, 64));
    const env = registrarOf(ctx);
    try {
      if (!env) throw new AscendError('WEBHOOK_NOT_REGISTERED', 'this server registers no webhooks (no --public-url)');
      const r = await rotateWebhookSecret(env, p.teamId, a.id);
      await audit(ctx, req, p, { action: 'webhook.rotate', outcome: 'success', target: { type: 'app', id: a.id } });
      return {
        id: r.webhookId,
        appId: a.id,
        previousSecretValidUntil: new Date(r.previousValidUntil).toISOString(),
      };
    } catch (err) {
      await audit(ctx, req, p, {
        action: 'webhook.rotate',
        outcome: 'failure',
        target: { type: 'app', id: a.id },
        detail: { code: codeOf(err) },
      });
      throw err;
    }
  });
}
