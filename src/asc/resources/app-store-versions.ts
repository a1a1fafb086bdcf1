import type { AscClient } from '../http/client.js';
import { collect } from '../http/paginate.js';
import type { Platform, Schemas } from './common.js';

export type AppStoreVersion = Schemas['AppStoreVersion'];

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-apps-_id_-appstoreversions */
export async function listAppStoreVersions(
  client: AscClient,
  appId: string,
  f: { platform?: Platform; versionString?: string } = {},
): Promise<AppStoreVersion[]> {
  const { data } = await collect<AppStoreVersion>(client, `/v1/apps/${encodeURIComponent(appId)}/appStoreVersions`, {
    'filter[platform]': f.platform ? [f.platform] : undefined,
    'filter[versionString]': f.versionString ? [f.versionString] : undefined,
  });
  return data;
}

/** States in which a version's train no longer takes builds (Apple answers 90186/90062 to an upload). */
export const CLOSED_VERSION_STATES = new Set([
  'ACCEPTED',
  'PENDING_APPLE_RELEASE',
  'PENDING_DEVELOPER_RELEASE',
  'PROCESSING_FOR_DISTRIBUTION',
  'READY_FOR_DISTRIBUTION',
  'REPLACED_WITH_NEW_VERSION',
]);
