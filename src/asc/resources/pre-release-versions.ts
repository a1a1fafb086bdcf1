import type { AscClient } from '../http/client.js';
import { collect } from '../http/paginate.js';
import type { Platform, Schemas } from './common.js';

export type PreReleaseVersion = Schemas['PrereleaseVersion'];

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-prereleaseversions */
export async function listPreReleaseVersions(
  client: AscClient,
  f: { appId: string; version?: string; platform?: Platform },
): Promise<PreReleaseVersion[]> {
  const { data } = await collect<PreReleaseVersion>(client, '/v1/preReleaseVersions', {
    'filter[app]': [f.appId],
    'filter[version]': f.version ? [f.version] : undefined,
    'filter[platform]': f.platform ? [f.platform] : undefined,
  });
  return data;
}
