import type { AscClient } from '../http/client.js';
import type { Schemas } from './common.js';

export type BuildUploadFile = Schemas['BuildUploadFile'];
export type UploadOperation = Schemas['DeliveryFileUploadOperation'];

/**
 * Reserves the file of a build upload (step 2); the answer carries the pre-signed upload operations.
 * https://developer.apple.com/documentation/appstoreconnectapi/post-v1-builduploadfiles
 */
export async function reserveBuildUploadFile(
  client: AscClient,
  input: { uploadId: string; fileName: string; fileSize: number; uti: 'com.apple.ipa' | 'com.apple.pkg' },
): Promise<BuildUploadFile> {
  const res = await client.request<Schemas['BuildUploadFileResponse']>({
    method: 'POST',
    path: '/v1/buildUploadFiles',
    body: {
      data: {
        type: 'buildUploadFiles',
        attributes: { assetType: 'ASSET', fileName: input.fileName, fileSize: input.fileSize, uti: input.uti },
        relationships: { buildUpload: { data: { type: 'buildUploads', id: input.uploadId } } },
      },
    } satisfies Schemas['BuildUploadFileCreateRequest'],
  });
  return res.body.data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-builduploadfiles-_id_ */
export async function getBuildUploadFile(client: AscClient, id: string): Promise<BuildUploadFile> {
  const res = await client.request<Schemas['BuildUploadFileResponse']>({
    method: 'GET',
    path: `/v1/buildUploadFiles/${encodeURIComponent(id)}`,
  });
  return res.body.data;
}

/**
 * Commits the file (step 4): `uploaded: true` with the whole file's MD5, or with no checksum when `md5` is
 * undefined (Apple has refused `sourceFileChecksums` values in live reports). Not retried; an ambiguous
 * result is reconciled by reading the file's `assetDeliveryState`.
 * https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-builduploadfiles-_id_
 */
export async function commitBuildUploadFile(
  client: AscClient,
  id: string,
  md5: string | undefined,
): Promise<BuildUploadFile> {
  const res = await client.request<Schemas['BuildUploadFileResponse']>({
    method: 'PATCH',
    path: `/v1/buildUploadFiles/${encodeURIComponent(id)}`,
    body: {
      data: {
        type: 'buildUploadFiles',
        id,
        attributes:
          md5 === undefined
            ? { uploaded: true }
            : { uploaded: true, sourceFileChecksums: { file: { hash: md5, algorithm: 'MD5' } } },
      },
    } satisfies Schemas['BuildUploadFileUpdateRequest'],
  });
  return res.body.data;
}
