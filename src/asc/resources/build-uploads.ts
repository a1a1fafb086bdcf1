import type { AscClient } from '../http/client.js';
import { collect } from '../http/paginate.js';
import type { Platform, Schemas } from './common.js';

export type BuildUpload = Schemas['BuildUpload'];
export type BuildUploadState = Schemas['BuildUploadState'];

/**
 * Build uploads of an app (Build Upload API, 4.1+), including those still in flight that are not builds yet.
 * https://developer.apple.com/documentation/appstoreconnectapi/get-v1-apps-_id_-builduploads
 */
export async function listBuildUploads(
  client: AscClient,
  appId: string,
  f: { version?: string; buildNumber?: string; platform?: Platform; state?: BuildUploadState[] } = {},
): Promise<BuildUpload[]> {
  const { data } = await collect<BuildUpload>(client, `/v1/apps/${encodeURIComponent(appId)}/buildUploads`, {
    'filter[cfBundleShortVersionString]': f.version ? [f.version] : undefined,
    'filter[cfBundleVersion]': f.buildNumber ? [f.buildNumber] : undefined,
    'filter[platform]': f.platform ? [f.platform] : undefined,
    'filter[state]': f.state,
    sort: '-uploadedDate',
  });
  return data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-builduploads-_id_ */
export async function getBuildUpload(
  client: AscClient,
  id: string,
  include?: string[],
): Promise<Schemas['BuildUploadResponse']> {
  const res = await client.request<Schemas['BuildUploadResponse']>({
    method: 'GET',
    path: `/v1/buildUploads/${encodeURIComponent(id)}`,
    query: { include: include?.join(',') },
  });
  return res.body;
}

/**
 * Creates the upload record for one build (Build Upload API, step 1). Not retried: a lost answer is
 * reconciled by the caller by listing uploads for the same version and build number.
 * https://developer.apple.com/documentation/appstoreconnectapi/post-v1-builduploads
 */
export async function createBuildUpload(
  client: AscClient,
  input: { appId: string; version: string; buildNumber: string; platform: Platform },
): Promise<BuildUpload> {
  const res = await client.request<Schemas['BuildUploadResponse']>({
    method: 'POST',
    path: '/v1/buildUploads',
    body: {
      data: {
        type: 'buildUploads',
        attributes: {
          cfBundleShortVersionString: input.version,
          cfBundleVersion: input.buildNumber,
          platform: input.platform,
        },
        relationships: { app: { data: { type: 'apps', id: input.appId } } },
      },
    } satisfies Schemas['BuildUploadCreateRequest'],
  });
  return res.body.data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-builduploads-_id_ */
export async function deleteBuildUpload(client: AscClient, id: string): Promise<void> {
  await client.request({ method: 'DELETE', path: `/v1/buildUploads/${encodeURIComponent(id)}` });
}
