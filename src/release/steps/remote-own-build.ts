import type { AscClient } from '../../asc/http/client.js';
import { getBuildUploadFile } from '../../asc/resources/build-upload-files.js';
import { type BuildUpload, getBuildUpload } from '../../asc/resources/build-uploads.js';
import { fileChecksums } from '../../ipa/inspect.js';
import type { OwnBuild } from '../deploy-types.js';

export type { OwnBuild };

/**
 * Whether one of the uploads that hold this build number carries this very file: its MD5 equals the
 * committed file's checksum. Then the number is ours (an earlier run's), with its build or still processing.
 */
export async function findOwnBuild(client: AscClient, file: string, uploads: BuildUpload[]): Promise<OwnBuild> {
  if (!uploads.length) return { buildId: null, uploadId: null };
  const md5 = (await fileChecksums(file)).md5;
  for (const u of uploads) {
    const full = await getBuildUpload(client, u.id, ['build', 'assetFile']);
    const fileId = full.data.relationships?.assetFile?.data?.id;
    const hash = fileId
      ? (await getBuildUploadFile(client, fileId)).attributes?.sourceFileChecksums?.file?.hash
      : undefined;
    if (hash?.toLowerCase() !== md5) continue;
    return { buildId: full.data.relationships?.build?.data?.id ?? null, uploadId: u.id };
  }
  return { buildId: null, uploadId: null };
}
