import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AscendError } from '../../../core/errors.js';
import { validateIssuerId, validateKeyId, validatePrivateKey } from '../../../credentials/key.js';
import { allocateBuildNumber } from '../../store/build-numbers.js';
import { addKey, getKey, listKeys, openKey, recordKeyCheck, removeKey, type StoredKey } from '../../store/keys.js';
import { requireRole } from '../auth.js';
import { type ApiContext, audit, parseBody, principalOf } from '../context.js';
import type { Page } from '../types.js';
import { beforeKeyRemoved } from './webhooks.js';

const AddBody = z.strictObject({
  name: z.string().max(64),
  keyId: z.string().max(64),
  issuerId: z.string().max(64).nullish(),
  // A .p8 is about 250 bytes; anything near the body limit is not one.
  privateKey: z.string().max(16 * 1024),
  individual: z.boolean().optional(),
});
const BuildNumberBody = z.strictObject({
  version: z.string().regex(/^\d+(\.\d+){0,2}$/, 'a version is one to three period-separated integers'),
  platform: z.enum(['IOS', 'MAC_OS', 'TV_OS', 'VISION_OS']).optional(),
  keyId: z.string().max(64).optional(),
});

/** The API's view of a key: never the private key (DESIGN §3.5). */
function view(k: StoredKey) {
  return {
    id: k.id,
    name: k.name,
    keyId: k.keyId,
    issuerId: k.issuerId,
    fingerprint: k.fingerprint,
    role: k.role,
    createdAt: k.createdAt,
  };
}

/** App Store Connect keys: validated like `keys add`, checked with Apple, then sealed in the vault. */
export function keyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/api/v1/keys', async (req, reply) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    const body = parseBody(AddBody, req.body);
    const individual = Boolean(body.individual);
    // Validate before asking Apple, so a typo is named locally and costs no request.
    const probe = {
      keyId: validateKeyId(body.keyId),
      issuerId: individual ? undefined : validateIssuerId(body.issuerId ?? ''),
      privateKeyPem: validatePrivateKey(body.privateKey, 'the private key (.p8)').pem,
      inHouse: false,
      sources: { keyId: 'request', issuerId: 'request', privateKey: 'request' },
    };
    try {
      const { role } = await ctx.apple.checkKey(probe);
      const key = await addKey(ctx.store, ctx.vault, ctx.deps, p.teamId, { ...body, individual, role });
      await audit(ctx, req, p, {
        action: 'key.add',
        outcome: 'success',
        target: { type: 'key', id: key.id },
        detail: { name: key.name, keyId: key.keyId, fingerprint: key.fingerprint },
      });
      reply.status(201);
      return view(key);
    } catch (err) {
      const code = err instanceof AscendError ? err.code : 'INTERNAL';
      await audit(ctx, req, p, { action: 'key.add', outcome: 'failure', detail: { keyId: probe.keyId, code } });
      throw err;
    }
  });

  app.get('/api/v1/keys', async (req) => {
    const p = await principalOf(ctx, req);
    return { data: (await listKeys(ctx.store, p.teamId)).map(view), next: null } satisfies Page<unknown>;
  });

  app.delete<{ Params: { id: string } }>('/api/v1/keys/:id', async (req, reply) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    const id = req.params.id.slice(0, 64);
    await beforeKeyRemoved(ctx, p, id);
    await removeKey(ctx.store, ctx.vault, p.teamId, id);
    await audit(ctx, req, p, { action: 'key.remove', outcome: 'success', target: { type: 'key', id } });
    return reply.status(204).send();
  });

  app.post<{ Params: { id: string } }>('/api/v1/keys/:id/check', async (req) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'releaser');
    const id = req.params.id.slice(0, 64);
    const { role } = await ctx.apple.checkKey(await openKey(ctx.store, ctx.vault, p.teamId, id));
    await recordKeyCheck(ctx.store, ctx.deps, p.teamId, id, role);
    return view(await getKey(ctx.store, p.teamId, id));
  });

  app.post<{ Params: { id: string } }>('/api/v1/apps/:id/build-numbers', async (req) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'releaser');
    const body = parseBody(BuildNumberBody, req.body);
    const keys = await listKeys(ctx.store, p.teamId);
    const keyRef = body.keyId ?? keys[0]?.id;
    if (!keyRef)
      throw new AscendError('RESOURCE_NOT_FOUND', 'this team has no App Store Connect key', {
        remedy: 'Add a key first (POST /api/v1/keys).',
      });
    const train = { appId: req.params.id.slice(0, 64), version: body.version, platform: body.platform ?? 'IOS' };
    const appleNumbers = await ctx.apple.buildNumbersInUse(
      await openKey(ctx.store, ctx.vault, p.teamId, keyRef),
      train,
    );
    const { buildNumber } = await allocateBuildNumber(ctx.store, ctx.deps, p.teamId, { ...train, appleNumbers });
    return { version: body.version, buildNumber: String(buildNumber) };
  });
}
