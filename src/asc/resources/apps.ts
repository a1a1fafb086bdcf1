import { AscendError } from '../../core/errors.js';
import type { AscClient } from '../http/client.js';
import { collect } from '../http/paginate.js';
import { isAppleNumericId, type Schemas } from './common.js';

export type App = Schemas['App'];

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-apps */
export async function listApps(
  client: AscClient,
  filter: { bundleId?: string[]; maxItems?: number } = {},
): Promise<App[]> {
  const { data } = await collect<App>(
    client,
    '/v1/apps',
    { 'filter[bundleId]': filter.bundleId, 'fields[apps]': 'name,bundleId,sku,primaryLocale' },
    { maxItems: filter.maxItems },
  );
  return data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-apps-_id_ */
export async function getApp(client: AscClient, id: string): Promise<App> {
  const res = await client.request<Schemas['AppResponse']>({
    method: 'GET',
    path: `/v1/apps/${encodeURIComponent(id)}`,
    query: { 'fields[apps]': 'name,bundleId,sku,primaryLocale' },
  });
  return res.body.data;
}

/**
 * The app with exactly this bundle ID. `filter[bundleId]` is not documented as an exact match, so the
 * answer is compared client-side too.
 */
export async function findAppByBundleId(client: AscClient, bundleId: string): Promise<App | undefined> {
  const apps = await listApps(client, { bundleId: [bundleId] });
  return apps.find((a) => a.attributes?.bundleId === bundleId);
}

/** Resolves `--app`: a numeric Apple ID or a bundle ID. A missing app names where to create it. */
export async function resolveApp(client: AscClient, ref: string): Promise<App> {
  if (isAppleNumericId(ref)) {
    try {
      return await getApp(client, ref);
    } catch (err) {
      if (err instanceof AscendError && err.code === 'ASC_NOT_FOUND') {
        throw new AscendError('APP_NOT_FOUND', `no app with Apple ID ${ref} is visible to this key`, { cause: err });
      }
      throw err;
    }
  }
  const app = await findAppByBundleId(client, ref);
  if (!app) throw new AscendError('APP_NOT_FOUND', `no app record with bundle ID ${ref} exists in App Store Connect`);
  return app;
}
