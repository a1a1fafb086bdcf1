import type { AscClient } from '../http/client.js';
import { collect, type Resource } from '../http/paginate.js';
import type { Platform, Schemas } from './common.js';

export type Build = Schemas['Build'];

export interface BuildFilter {
  appId: string;
  /** The version train (CFBundleShortVersionString). */
  version?: string;
  /** The build number (CFBundleVersion). */
  buildNumber?: string;
  platform?: Platform;
  processingState?: Build extends { attributes?: { processingState?: infer S } } ? S[] : never;
  maxItems?: number;
}

/**
 * Builds of an app, newest first, with their pre-release version included.
 * https://developer.apple.com/documentation/appstoreconnectapi/get-v1-builds
 */
export async function listBuilds(
  client: AscClient,
  f: BuildFilter,
): Promise<{ builds: Build[]; included: Resource[] }> {
  const { data, included } = await collect<Build>(
    client,
    '/v1/builds',
    {
      'filter[app]': [f.appId],
      'filter[preReleaseVersion.version]': f.version ? [f.version] : undefined,
      'filter[preReleaseVersion.platform]': f.platform ? [f.platform] : undefined,
      'filter[version]': f.buildNumber ? [f.buildNumber] : undefined,
      'filter[processingState]': f.processingState,
      sort: '-uploadedDate',
      include: 'preReleaseVersion',
    },
    { maxItems: f.maxItems },
  );
  return { builds: data, included };
}

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-builds-_id_ */
export async function getBuild(client: AscClient, id: string, include?: string[]): Promise<Schemas['BuildResponse']> {
  const res = await client.request<Schemas['BuildResponse']>({
    method: 'GET',
    path: `/v1/builds/${encodeURIComponent(id)}`,
    query: { include: include?.join(',') },
  });
  return res.body;
}
