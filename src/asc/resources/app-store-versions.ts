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

export type ReleaseType = 'MANUAL' | 'AFTER_APPROVAL' | 'SCHEDULED';

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-appstoreversions */
export async function createAppStoreVersion(
  client: AscClient,
  input: {
    appId: string;
    platform: Platform;
    versionString: string;
    releaseType: ReleaseType;
    earliestReleaseDate?: string;
  },
): Promise<AppStoreVersion> {
  const res = await client.request<Schemas['AppStoreVersionResponse']>({
    method: 'POST',
    path: '/v1/appStoreVersions',
    body: {
      data: {
        type: 'appStoreVersions',
        attributes: {
          platform: input.platform,
          versionString: input.versionString,
          releaseType: input.releaseType,
          ...(input.earliestReleaseDate ? { earliestReleaseDate: input.earliestReleaseDate } : {}),
        },
        relationships: { app: { data: { type: 'apps', id: input.appId } } },
      },
    } satisfies Schemas['AppStoreVersionCreateRequest'],
  });
  return res.body.data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-appstoreversions-_id_ */
export async function updateAppStoreVersionRelease(
  client: AscClient,
  id: string,
  releaseType: ReleaseType,
  earliestReleaseDate?: string,
): Promise<AppStoreVersion> {
  const res = await client.request<Schemas['AppStoreVersionResponse']>({
    method: 'PATCH',
    path: `/v1/appStoreVersions/${encodeURIComponent(id)}`,
    body: {
      data: {
        type: 'appStoreVersions',
        id,
        attributes: { releaseType, ...(earliestReleaseDate ? { earliestReleaseDate } : {}) },
      },
    } satisfies Schemas['AppStoreVersionUpdateRequest'],
  });
  return res.body.data;
}

/** The version with its build and phased release linkage. https://developer.apple.com/documentation/appstoreconnectapi/get-v1-appstoreversions-_id_ */
export async function getAppStoreVersion(client: AscClient, id: string): Promise<Schemas['AppStoreVersionResponse']> {
  const res = await client.request<Schemas['AppStoreVersionResponse']>({
    method: 'GET',
    path: `/v1/appStoreVersions/${encodeURIComponent(id)}`,
    query: { include: 'build,appStoreVersionPhasedRelease' },
  });
  return res.body;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-appstoreversions-_id_-relationships-build */
export async function attachBuild(client: AscClient, versionId: string, buildId: string): Promise<void> {
  await client.request({
    method: 'PATCH',
    path: `/v1/appStoreVersions/${encodeURIComponent(versionId)}/relationships/build`,
    body: { data: { type: 'builds', id: buildId } },
  });
}

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-appstoreversionphasedreleases */
export async function createPhasedRelease(
  client: AscClient,
  versionId: string,
): Promise<Schemas['AppStoreVersionPhasedRelease']> {
  const res = await client.request<Schemas['AppStoreVersionPhasedReleaseResponse']>({
    method: 'POST',
    path: '/v1/appStoreVersionPhasedReleases',
    body: {
      data: {
        type: 'appStoreVersionPhasedReleases',
        attributes: { phasedReleaseState: 'INACTIVE' },
        relationships: { appStoreVersion: { data: { type: 'appStoreVersions', id: versionId } } },
      },
    } satisfies Schemas['AppStoreVersionPhasedReleaseCreateRequest'],
  });
  return res.body.data;
}
