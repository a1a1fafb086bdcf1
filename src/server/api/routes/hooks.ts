import type { FastifyInstance } from 'fastify';
import { AscendError } from '../../../core/errors.js';
import { findWebhook, recordWebhookEvent, type WebhookRecord } from '../../store/webhooks.js';
import { parseNotice } from '../../webhooks/payload.js';
import { SIGNATURE_HEADER, verifySignature } from '../../webhooks/signature.js';
import type { HookReceiver } from '../../webhooks/types.js';
import type { ApiContext } from '../context.js';

/** Apple's event payloads are small JSON documents; anything larger is not one. */
export const MAX_HOOK_BYTES = 64 * 1024;
const WEBHOOK_ID = /^whk_[a-z2-7]{26}$/;

/** The secrets a delivery may be signed with now: the current one, and the previous one during its grace. */
async function secretsOf(ctx: ApiContext, w: WebhookRecord): Promise<Buffer[]> {
  const out = [await ctx.vault.open(w.teamId, w.secretId)];
  if (w.previousSecretId && w.previousUntil !== null && ctx.deps.clock.now() < w.previousUntil)
    out.push(await ctx.vault.open(w.teamId, w.previousSecretId));
  return out;
}

/**
 * `POST /hooks/apple/:webhookId` (DESIGN §3.5, §3.6): App Store Connect's signed deliveries. The body is
 * kept as raw bytes (the signature is over exactly those bytes) and bounded; the signature is checked in
 * constant time before anything is parsed; an event is recorded once by Apple's event id and handled in a
 * job, so the answer takes milliseconds and a duplicate, a replay or a redelivery starts nothing twice.
 */
export function hookRoutes(app: FastifyInstance, ctx: ApiContext, receiver: HookReceiver): void {
  app.register(async (scope) => {
    // Only here: every content type is taken as bytes, whatever Apple (or a forger) declares.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_HOOK_BYTES }, (_req, body, done) =>
      done(null, body),
    );
    scope.post<{ Params: { webhookId: string } }>(
      '/hooks/apple/:webhookId',
      { bodyLimit: MAX_HOOK_BYTES },
      async (req, reply) => {
        const id = req.params.webhookId;
        const hook = WEBHOOK_ID.test(id) ? await findWebhook(ctx.store, id) : undefined;
        if (!hook) throw new AscendError('RESOURCE_NOT_FOUND', 'no webhook has this address');
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const header = req.headers[SIGNATURE_HEADER];
        if (!verifySignature(typeof header === 'string' ? header : undefined, body, await secretsOf(ctx, hook))) {
          throw new AscendError('WEBHOOK_SIGNATURE_INVALID', 'the delivery is not signed with this webhook’s secret');
        }
        const notice = parseNotice(body);
        if (!notice)
          throw new AscendError('USAGE', 'the delivery is not an App Store Connect event', {
            remedy: 'Send Apple’s event JSON: {"data":{"type","id",…}}.',
          });
        const ev = await recordWebhookEvent(ctx.store, ctx.deps, hook, notice);
        if (!ev) return reply.status(200).send({ status: 'duplicate' });
        await receiver.enqueue({ teamId: hook.teamId, eventRef: ev.id });
        receiver.nudge();
        return reply.status(202).send({ status: 'accepted' });
      },
    );
  });
}
