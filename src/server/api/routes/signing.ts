import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AscendError } from '../../../core/errors.js';
import type { ApiKey } from '../../../credentials/types.js';
import { validateBundleIdentifier } from '../../../signing/bundle-id.js';
import { listApps } from '../../store/apps.js';
import { listKeys, openKey } from '../../store/keys.js';
import { listHeldCertificates, VaultSigningKeys } from '../../store/signing-keys.js';
import { requireRole } from '../auth.js';
import { type ApiContext, audit, parseBody, principalOf, type SigningGateway } from '../context.js';
import type { Page, SigningCertificateView, SigningEnsureAnswer } from '../types.js';

const EnsureBody = z
  .strictObject({
    appId: z.string().max(64).optional(),
    bundleId: z.string().max(155).optional(),
    keyId: z.string().max(64).optional(),
    renewWithinDays: z.number().int().min(0).max(365).optional(),
  })
  .refine((b) => (b.appId === undefined) !== (b.bundleId === undefined), 'give exactly one of appId and bundleId');
const CERT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The team's App Store Connect key: the one named, else the first (as build numbers choose). */
async function teamKey(ctx: ApiContext, teamId: string, keyRef: string | undefined): Promise<ApiKey> {
  const ref = keyRef ?? (await listKeys(ctx.store, teamId))[0]?.id;
  if (!ref)
    throw new AscendError('RESOURCE_NOT_FOUND', 'this team has no App Store Connect key', {
      remedy: 'Add a key first (POST /api/v1/keys).',
    });
  return openKey(ctx.store, ctx.vault, teamId, ref);
}

/** An app id is one of the team's synced apps; its bundle ID is what signing needs. */
async function bundleOf(ctx: ApiContext, teamId: string, body: { appId?: string; bundleId?: string }) {
  if (body.bundleId !== undefined) return body.bundleId;
  const app = (await listApps(ctx.store, teamId)).find((a) => a.ascAppId === body.appId || a.id === body.appId);
  if (!app)
    throw new AscendError('RESOURCE_NOT_FOUND', `app ${body.appId} is not among this team's apps`, {
      remedy: 'Sync the apps (POST /api/v1/apps/sync) or give the bundleId instead.',
    });
  return app.bundleId;
}

/**
 * Code signing (DESIGN §3.5): certificates whose private keys live in the team's vault, made and renewed by
 * `ensureSigning` exactly as `ascend signing ensure` does. No route ever answers with a private key, a .p12
 * or its password; a build step will get them through the worker API.
 */
export function signingRoutes(app: FastifyInstance, ctx: ApiContext, signing: SigningGateway): void {
  const keysOf = (teamId: string) => new VaultSigningKeys(ctx.store, ctx.vault, ctx.deps, teamId);
  // Two ensures of one team at once would both find no usable certificate and make two: one at a time per
  // team in this process (the API runs in one process; workers never ensure).
  const running = new Map<string, Promise<unknown>>();
  const oneAtATime = <T>(teamId: string, fn: () => Promise<T>): Promise<T> => {
    const next = (running.get(teamId) ?? Promise.resolve()).catch(() => {}).then(fn);
    running.set(teamId, next);
    return next.finally(() => {
      if (running.get(teamId) === next) running.delete(teamId);
    });
  };

  app.get<{ Querystring: { keyId?: string } }>('/api/v1/signing', async (req) => {
    const p = await principalOf(ctx, req);
    const key = await teamKey(ctx, p.teamId, req.query.keyId?.slice(0, 64));
    return { data: await signing.list(key, keysOf(p.teamId)), next: null } satisfies Page<SigningCertificateView>;
  });

  app.post('/api/v1/signing/ensure', async (req) => {
    const p = await principalOf(ctx, req);
    // Creates certificates and profiles at Apple, which count against the team's cap: admins only.
    requireRole(p, 'admin');
    const body = parseBody(EnsureBody, req.body);
    // Checked before anything is audited, so the audit detail only ever holds a valid bundle ID.
    const bundleIdentifier = validateBundleIdentifier(await bundleOf(ctx, p.teamId, body));
    const warnings: string[] = [];
    try {
      const key = await teamKey(ctx, p.teamId, body.keyId);
      const r = await oneAtATime(p.teamId, () =>
        signing.ensure(key, keysOf(p.teamId), {
          bundleIdentifier,
          renewWithinDays: body.renewWithinDays ?? 30,
          onWarning: (w) => warnings.push(w),
        }),
      );
      await audit(ctx, req, p, {
        action: 'signing.ensure',
        outcome: 'success',
        target: { type: 'certificate', id: r.certificate.id },
        detail: { bundleId: bundleIdentifier, profileId: r.profile.id, changes: r.changes },
      });
      return { ...r, warnings } satisfies SigningEnsureAnswer;
    } catch (err) {
      const code = err instanceof AscendError ? err.code : 'INTERNAL';
      await audit(ctx, req, p, {
        action: 'signing.ensure',
        outcome: 'failure',
        detail: { bundleId: bundleIdentifier, code },
      });
      throw err;
    }
  });

  app.post<{ Params: { certificateId: string } }>('/api/v1/signing/:certificateId/revoke', async (req) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    const id = req.params.certificateId.slice(0, 64);
    // Only certificates this team's vault holds: teams of one server may reach the same Apple team, and one
    // must never revoke what another signs with.
    const held =
      CERT_ID.test(id) && (await listHeldCertificates(ctx.store, p.teamId)).some((c) => c.certificateId === id);
    if (!held)
      throw new AscendError('SIGNING_CERTIFICATE_NOT_FOUND', `certificate ${id} is not held by this team's vault`, {
        remedy: "List the team's certificates with GET /api/v1/signing; only those with keyHeld can be revoked here.",
      });
    try {
      const key = await teamKey(ctx, p.teamId, undefined);
      const r = await oneAtATime(p.teamId, () => signing.revoke(key, keysOf(p.teamId), id));
      await audit(ctx, req, p, {
        action: 'signing.revoke',
        outcome: 'success',
        target: { type: 'certificate', id },
        detail: { keyRemoved: r.keyRemoved },
      });
      return r;
    } catch (err) {
      const code = err instanceof AscendError ? err.code : 'INTERNAL';
      await audit(ctx, req, p, {
        action: 'signing.revoke',
        outcome: 'failure',
        target: { type: 'certificate', id },
        detail: { code },
      });
      throw err;
    }
  });
}
