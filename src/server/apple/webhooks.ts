import { AscApiError } from '../../asc/http/errors.js';
import { getAppStoreVersion } from '../../asc/resources/app-store-versions.js';
import { getBuildUpload } from '../../asc/resources/build-uploads.js';
import type { Schemas } from '../../asc/resources/common.js';
import {
  createWebhook,
  deleteWebhook,
  listWebhooks,
  updateWebhook,
  type Webhook,
  type WebhookEventType,
} from '../../asc/resources/webhooks.js';
import type { AppleWebhook, AppleWebhooks } from '../webhooks/types.js';
import type { AscClients } from './clients.js';

function view(w: Webhook): AppleWebhook {
  return {
    id: w.id,
    url: w.attributes?.url ?? '',
    enabled: w.attributes?.enabled ?? false,
    eventTypes: [...(w.attributes?.eventTypes ?? [])],
  };
}

const types = (t: readonly string[]) => [...t] as WebhookEventType[];

/**
 * App Store Connect's webhooks API (src/asc/resources/webhooks.ts) and the three resources its events name,
 * for the server's registration and its event job.
 */
export function ascWebhooks(clients: AscClients): AppleWebhooks {
  return {
    list: async (key, ascAppId) => (await listWebhooks(clients.for(key), ascAppId)).map(view),
    create: async (key, w) =>
      view(
        await createWebhook(clients.for(key), {
          appId: w.ascAppId,
          name: w.name,
          url: w.url,
          secret: w.secret,
          eventTypes: types(w.eventTypes),
          enabled: true,
        }),
      ),
    async update(key, id, patch) {
      await updateWebhook(clients.for(key), id, {
        ...(patch.url !== undefined ? { url: patch.url } : {}),
        ...(patch.secret !== undefined ? { secret: patch.secret } : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
        ...(patch.eventTypes !== undefined ? { eventTypes: types(patch.eventTypes) } : {}),
      });
    },
    async delete(key, id) {
      try {
        await deleteWebhook(clients.for(key), id);
      } catch (err) {
        // Already gone (deleted by hand at Apple, or a retried delete whose first answer was lost).
        if (err instanceof AscApiError && err.isNotFound) return;
        throw err;
      }
    },
    async readState(key, r) {
      const client = clients.for(key);
      if (r.type === 'buildUploads') {
        const u = (await getBuildUpload(client, r.id)).data;
        return u.attributes?.state?.state ?? null;
      }
      if (r.type === 'appStoreVersions') {
        const v = (await getAppStoreVersion(client, r.id)).data;
        return v.attributes?.appVersionState ?? v.attributes?.appStoreState ?? null;
      }
      if (r.type === 'buildBetaDetails') {
        // https://developer.apple.com/documentation/appstoreconnectapi/get-v1-buildbetadetails-_id_
        const res = await client.request<Schemas['BuildBetaDetailResponse']>({
          method: 'GET',
          path: `/v1/buildBetaDetails/${encodeURIComponent(r.id)}`,
        });
        return res.body.data.attributes?.externalBuildState ?? null;
      }
      return null;
    },
  };
}
