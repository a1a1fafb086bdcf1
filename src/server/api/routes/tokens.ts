import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type ApiTokenInfo, createApiToken, listApiTokens, revokeApiToken } from '../../accounts/api-tokens.js';
import { requireRole } from '../auth.js';
import { type ApiContext, audit, parseBody, principalOf } from '../context.js';
import type { ApiToken, CreatedApiToken, Page } from '../types.js';

const CreateBody = z.strictObject({
  name: z.string().min(1).max(64),
  role: z.enum(['owner', 'admin', 'releaser', 'viewer']),
  expiresAt: z.iso.datetime().nullish(),
});

function view(t: ApiTokenInfo): ApiToken {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    role: t.role,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
  };
}

/** API tokens for CI and workers (DESIGN §3.5): admins and owners manage them; the token shows once. */
export function tokenRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/tokens', async (req): Promise<Page<ApiToken>> => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    return { data: (await listApiTokens(ctx.store, p.teamId)).map(view), next: null };
  });

  app.post('/api/v1/tokens', async (req, reply): Promise<CreatedApiToken> => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    const body = parseBody(CreateBody, req.body);
    // Nobody hands out more power than they hold.
    requireRole(p, body.role);
    const expiresAt = body.expiresAt ? new Date(body.expiresAt).toISOString() : null;
    const { token, info } = await createApiToken(ctx.store, ctx.deps, p.teamId, {
      name: body.name,
      role: body.role,
      createdBy: p.userId,
      expiresAt,
    });
    await audit(ctx, req, p, {
      action: 'token.create',
      outcome: 'success',
      target: { type: 'token', id: info.id },
      detail: { name: info.name, role: info.role },
    });
    reply.status(201);
    return { ...view(info), token };
  });

  app.delete<{ Params: { id: string } }>('/api/v1/tokens/:id', async (req, reply) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    await revokeApiToken(ctx.store, ctx.deps, p.teamId, req.params.id.slice(0, 64));
    await audit(ctx, req, p, {
      action: 'token.revoke',
      outcome: 'success',
      target: { type: 'token', id: req.params.id.slice(0, 64) },
    });
    return reply.status(204).send();
  });
}
