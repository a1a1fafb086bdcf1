import { resolveApp } from '../../asc/resources/apps.js';
import {
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  pingWebhook,
  type Webhook,
} from '../../asc/resources/webhooks.js';
import { AscendError } from '../../core/errors.js';
import { table } from '../io.js';
import type { Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

/** Apple's attribute names as they are; Apple never returns the secret, and nothing here would print it. */
const row = (w: Webhook) => ({ id: w.id, ...w.attributes });

/** `ascend webhooks list --app A` */
export async function list(rt: Runtime, _args: ArgsOf<'webhooksList'>, opts: OptionsOf<'webhooksList'>) {
  const client = await rt.client();
  const app = await resolveApp(client, opts.app);
  const hooks = await listWebhooks(client, app.id);
  if (rt.config.json)
    rt.out.json({ app: { id: app.id, bundleId: app.attributes?.bundleId }, webhooks: hooks.map(row) });
  else
    rt.out.print(
      table(
        ['ID', 'NAME', 'URL', 'ENABLED', 'EVENT TYPES'],
        hooks.map((w) => [
          w.id,
          w.attributes?.name,
          w.attributes?.url,
          w.attributes?.enabled,
          w.attributes?.eventTypes?.join(','),
        ]),
      ),
    );
  return 0;
}

/** `ascend webhooks ping WEBHOOK_ID` or `ascend webhooks ping --app A` (every webhook of the app). */
export async function ping(rt: Runtime, args: ArgsOf<'webhooksPing'>, opts: OptionsOf<'webhooksPing'>) {
  const [id] = args;
  if (id !== undefined && opts.app !== undefined)
    throw new AscendError('USAGE', 'give a webhook ID or --app, not both');
  if (id === undefined && opts.app === undefined)
    throw new AscendError('USAGE', 'give a webhook ID, or --app APP to ping every webhook of the app');
  const client = await rt.client();
  const hooks =
    id !== undefined
      ? [await getWebhook(client, id)]
      : await listWebhooks(client, (await resolveApp(client, opts.app!)).id);
  if (!hooks.length) throw new AscendError('USAGE', `the app ${opts.app} has no webhooks; make one first`);
  const pinged = [];
  for (const w of hooks) pinged.push({ webhook: row(w), ping: await pingWebhook(client, w.id) });
  if (rt.config.json) rt.out.json({ pinged });
  else
    for (const p of pinged)
      rt.out.print(
        `pinged ${p.webhook.name ?? p.webhook.id} (${p.webhook.url ?? ''}); see \`ascend webhooks deliveries ${p.webhook.id}\``,
      );
  return 0;
}

/** `ascend webhooks deliveries WEBHOOK_ID [--state FAILED] [--limit N]` */
export async function deliveries(
  rt: Runtime,
  args: ArgsOf<'webhooksDeliveries'>,
  opts: OptionsOf<'webhooksDeliveries'>,
) {
  const [id] = args;
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new AscendError('USAGE', `--limit ${opts.limit} is not a positive whole number`);
  const client = await rt.client();
  const found = await listWebhookDeliveries(client, id, {
    state: opts.state ? [opts.state] : undefined,
    maxItems: limit,
  });
  const rows = found.map(({ delivery, event }) => ({
    id: delivery.id,
    ...delivery.attributes,
    event: event ? { id: event.id, ...event.attributes } : null,
  }));
  if (rt.config.json) rt.out.json({ webhook: { id }, deliveries: rows });
  else
    rt.out.print(
      table(
        ['ID', 'CREATED', 'STATE', 'HTTP', 'EVENT', 'REDELIVERY', 'ERROR'],
        rows.map((r) => [
          r.id,
          r.createdDate,
          r.deliveryState,
          r.response?.httpStatusCode,
          r.event?.ping ? 'PING' : r.event?.eventType,
          r.redelivery,
          r.errorMessage,
        ]),
      ),
    );
  return 0;
}
