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
 * Every attribute of a build, and of its relationships only the pre-release version. Without `fields`, Apple
 * sends two links for each of a build's fourteen relationships: four fifths of every page, and of the time to
 * send, receive and parse it.
 */
export const BUILD_FIELDS = [
  'version',
  'uploadedDate',
  'expirationDate',
  'expired',
  'minOsVersion',
  'lsMinimumSystemVersion',
  'computedMinMacOsVersion',
  'computedMinVisionOsVersion',
  'iconAssetToken',
  'processingState',
  'buildAudienceType',
  'usesNonExemptEncryption',
  'preReleaseVersion',
] as const satisfies readonly (keyof NonNullable<Build['attributes']> | 'preReleaseVersion')[];

/**
 * Builds of an app, newest first, with their pre-release version (version and platform) included.
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
      'fields[builds]': BUILD_FIELDS,
      'fields[preReleaseVersions]': ['version', 'platform'],
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

/**
 * Answers export compliance for a build (the only build attribute a key may set besides `expired`).
 * https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-builds-_id_
 */
export async function setUsesNonExemptEncryption(client: AscClient, id: string, value: boolean): Promise<Build> {
  const res = await client.request<Schemas['BuildResponse']>({
    method: 'PATCH',
    path: `/v1/builds/${encodeURIComponent(id)}`,
    body: {
      data: { type: 'builds', id, attributes: { usesNonExemptEncryption: value } },
    } satisfies Schemas['BuildUpdateRequest'],
  });
  return res.body.data;
}

/** The build's beta groups, as linkage. https://developer.apple.com/documentation/appstoreconnectapi/get-v1-builds-_id_ */
export async function buildGroupIds(client: AscClient, id: string): Promise<string[]> {
  const doc = await getBuild(client, id, ['betaGroups']);
  const data = doc.data.relationships?.betaGroups?.data;
  return Array.isArray(data) ? data.map((d) => d.id) : [];
}

/**
 * Adds the build to beta groups; 204 and idempotent on Apple's side for ids already linked.
 * https://developer.apple.com/documentation/appstoreconnectapi/post-v1-builds-_id_-relationships-betagroups
 */
export async function addBuildToGroups(client: AscClient, id: string, groupIds: string[]): Promise<void> {
  await client.request({
    method: 'POST',
    path: `/v1/builds/${encodeURIComponent(id)}/relationships/betaGroups`,
    body: { data: groupIds.map((g) => ({ type: 'betaGroups', id: g })) },
  });
}

/** https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-builds-_id_-relationships-betagroups */
export async function removeBuildFromGroups(client: AscClient, id: string, groupIds: string[]): Promise<void> {
  await client.request({
    method: 'DELETE',
    path: `/v1/builds/${encodeURIComponent(id)}/relationships/betaGroups`,
    body: { data: groupIds.map((g) => ({ type: 'betaGroups', id: g })) },
  });
}
