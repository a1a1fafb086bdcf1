import type { AscClient } from '../../asc/http/client.js';
import { getBuildUploadFile } from '../../asc/resources/build-upload-files.js';
import { type BuildUpload, getBuildUpload } from '../../asc/resources/build-uploads.js';
import type { OpenSource } from '../../core/byte-source.js';
import { fileChecksums } from '../../ipa/inspect.js';
import type { OwnBuild, SourceFile } from '../deploy-types.js';

export type { OwnBuild };

/**
 * Whether one of the uploads that hold this build number carries this very file: its MD5 equals the
 * committed file's checksum. Then the number is ours (an earlier run's), with its build or still processing.
 */
export async function findOwnBuild(
  client: AscClient,
  md5Of: () => Promise<string>,
  uploads: BuildUpload[],
): Promise<OwnBuild> {
  if (!uploads.length) return { buildId: null, uploadId: null };
  const md5 = await md5Of();
  for (const u of uploads) {
    const full = await getBuildUpload(client, u.id, ['build', 'assetFile']);
    const fileId = full.data.relationships?.assetFile?.data?.id;
    const hash = fileId
      ? (await getBuildUploadFile(client, fileId)).attributes?.sourceFileChecksums?.file?.hash
      : undefined;
    if (hash?.toLowerCase() !== md5) continue;
    return { buildId: full.data.relationships?.build?.data?.id ?? null, uploadId: u.id, md5 };
  }
  return { buildId: null, uploadId: null };
}

/** The file's MD5, read at most once however many checks ask for it. */
export function lazyMd5(file: string, openSource?: OpenSource): () => Promise<string> {
  let md5: Promise<string> | undefined;
  const sum = async () => {
    if (!openSource) return (await fileChecksums(file)).md5;
    const source = await openSource(file);
    try {
      return (await fileChecksums(source)).md5;
    } finally {
      await source.close();
    }
  };
  return () => {
    md5 ??= sum();
    return md5;
  };
}

/**
 * Whether the build an earlier run of this deploy made came from this very file. The run is keyed by the
 * file's path, and a rebuild at the same path with the same build number is a different binary: its number
 * is taken, not ours. A size that differs settles it without reading the file.
 */
export async function sameSource(
  source: SourceFile | undefined,
  bytes: number,
  md5Of: () => Promise<string>,
): Promise<boolean> {
  if (!source || source.bytes !== bytes) return false;
  return (await md5Of()) === source.md5;
}
