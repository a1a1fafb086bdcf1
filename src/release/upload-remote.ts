import type { AscClient } from '../asc/http/client.js';
import { AscApiError } from '../asc/http/errors.js';
import { idempotentWrite, writeOnce } from '../asc/http/reconcile.js';
import {
  type BuildUploadFile,
  commitBuildUploadFile,
  getBuildUploadFile,
  reserveBuildUploadFile,
} from '../asc/resources/build-upload-files.js';
import {
  type BuildUpload,
  createBuildUpload,
  deleteBuildUpload,
  getBuildUpload,
  listBuildUploads,
} from '../asc/resources/build-uploads.js';
import type { Platform } from '../asc/resources/common.js';
import { AscendError } from '../core/errors.js';
import { compareDotted } from '../core/versions.js';
import type { SavedFile } from '../upload/state.js';

/** The Build Upload API calls the upload step makes, each settling a lost answer by reading (reconcile.ts). */

export interface BuildRef {
  appId: string;
  platform: Platform;
  version: string;
  buildNumber: string;
}

export const uploadState = (u: BuildUpload) => u.attributes?.state?.state ?? 'AWAITING_UPLOAD';

export async function readUpload(client: AscClient, id: string): Promise<BuildUpload | undefined> {
  try {
    return (await getBuildUpload(client, id, ['build', 'assetFile'])).data;
  } catch (err) {
    if (err instanceof AscApiError && err.isNotFound) return undefined;
    throw err;
  }
}

export async function dropUpload(client: AscClient, id: string): Promise<void> {
  try {
    // Deleting twice is harmless (the second answers 404), so an ambiguous DELETE is simply sent again.
    await idempotentWrite(client, () => deleteBuildUpload(client, id));
  } catch (err) {
    if (err instanceof AscApiError && (err.isNotFound || err.isConflict)) return; // gone already, or past deleting
    throw err;
  }
}

/** Every upload of this build (the list filters by version; the build number is compared numerically). */
export async function uploadsFor(client: AscClient, b: BuildRef): Promise<BuildUpload[]> {
  const list = await listBuildUploads(client, b.appId, { version: b.version, platform: b.platform });
  return list.filter((u) => compareDotted(u.attributes?.cfBundleVersion ?? '', b.buildNumber) === 0);
}

export const createdAt = (u: BuildUpload) => Date.parse(u.attributes?.createdDate ?? '') || 0;

/**
 * POST /v1/buildUploads is not retried blindly; if its answer is lost, the upload it made is the one of this
 * build awaiting upload created since `since` (a minute of clock skew allowed). `resent` says the create was
 * sent again because that read found nothing: Apple's list can lag, so the first may have landed too.
 */
export async function createOrReconcile(
  client: AscClient,
  b: BuildRef,
  since: number,
): Promise<{ upload: BuildUpload; resent: boolean }> {
  let sent = 0;
  const upload = await writeOnce(
    client,
    () => {
      sent++;
      return createBuildUpload(client, b);
    },
    async () => {
      const made = (await uploadsFor(client, b)).filter(
        (u) => uploadState(u) === 'AWAITING_UPLOAD' && createdAt(u) >= since - CREATE_SKEW_MS,
      );
      return made.length === 1 ? made[0] : undefined;
    },
  );
  return { upload, resent: sent > 1 };
}

/** Clock skew allowed between this machine and Apple when telling which uploads a create made. */
export const CREATE_SKEW_MS = 60_000;

/** The file reserved for an upload, if any. */
export async function reservedFile(client: AscClient, uploadId: string): Promise<BuildUploadFile | undefined> {
  const fileId = (await getBuildUpload(client, uploadId, ['assetFile'])).data.relationships?.assetFile?.data?.id;
  return fileId ? getBuildUploadFile(client, fileId) : undefined;
}

export async function reserveOrReconcile(
  client: AscClient,
  uploadId: string,
  platform: Platform,
  file: SavedFile,
): Promise<BuildUploadFile> {
  const uti = platform === 'MAC_OS' ? 'com.apple.pkg' : 'com.apple.ipa';
  const find = () => reservedFile(client, uploadId);
  try {
    return await writeOnce(
      client,
      () => reserveBuildUploadFile(client, { uploadId, fileName: file.name, fileSize: file.size, uti }),
      find,
    );
  } catch (err) {
    // A 409 here means the file is already reserved (an earlier run's answer was lost): use that one.
    if (err instanceof AscApiError && err.isConflict) {
      const existing = await find();
      if (existing) return existing;
    }
    throw err;
  }
}

export type CommitEnd =
  | { kind: 'committed'; checksumSent: boolean }
  /** Apple lacks parts: their numbers, or undefined when its answer does not list them all. */
  | { kind: 'missing'; parts: number[] | undefined; detail: string }
  /** The bytes Apple holds do not match the checksum: some part arrived damaged. */
  | { kind: 'mismatch'; detail: string };

const CHECKSUM_POINTER = '/data/attributes/sourceFileChecksums';

/**
 * Commits the file, reconciling an ambiguous answer by reading `assetDeliveryState`, and sorts Apple's
 * refusals into what the caller can heal: missing parts, a checksum mismatch, or a refused checksum field
 * (botiverse/hands#199: 409 for a `sourceFileChecksums` value; widely used clients send none), after which
 * it commits again without a checksum — the whole-file MD5 is still reported to the user.
 */
export async function commitFile(client: AscClient, fileId: string, md5: string): Promise<CommitEnd> {
  let checksum: string | undefined = md5;
  for (;;) {
    try {
      await writeOnce<unknown>(
        client,
        () => commitBuildUploadFile(client, fileId, checksum),
        async () => ((await committed(client, fileId)) ? true : undefined),
      );
      return { kind: 'committed', checksumSent: checksum !== undefined };
    } catch (err) {
      if (!(err instanceof AscApiError) || !err.isConflict) throw err;
      // A 409 may answer a second commit whose first answer was lost: the file's state settles it.
      if (await committed(client, fileId)) return { kind: 'committed', checksumSent: checksum !== undefined };
      const end = classifyRefusal(err);
      if (end === 'checksum-field' && checksum !== undefined) {
        checksum = undefined;
        continue;
      }
      if (end === 'checksum-field') throw err;
      if (end) return end;
      throw err;
    }
  }
}

async function committed(client: AscClient, fileId: string): Promise<boolean> {
  const s = (await getBuildUploadFile(client, fileId)).attributes?.assetDeliveryState?.state;
  return s !== undefined && s !== 'AWAITING_UPLOAD';
}

function classifyRefusal(err: AscApiError): CommitEnd | 'checksum-field' | undefined {
  const detail = err.errors.map((e) => e.detail ?? e.title).join('; ');
  if (err.errors.some((e) => e.source?.pointer === CHECKSUM_POINTER)) {
    return /does not match|mismatch/i.test(detail) ? { kind: 'mismatch', detail } : 'checksum-field';
  }
  if (err.hasCode('STATE_ERROR.UPLOAD_INCOMPLETE') || /not (been )?received|missing part/i.test(detail)) {
    return { kind: 'missing', parts: partNumbers(detail), detail };
  }
  return undefined;
}

/**
 * Part numbers named in Apple's text: "Parts 3–6 not received", "Parts 3, 4, 9 were not received". A list
 * cut short ("…") is not trusted: every part is sent again then.
 */
export function partNumbers(detail: string): number[] | undefined {
  if (/…|\.\.\./.test(detail)) return undefined;
  const m = /parts?\s+([\d\s,–-]+(?:and\s+\d+)?)/i.exec(detail);
  if (!m) return undefined;
  const out = new Set<number>();
  for (const piece of m[1]!.split(/,|\band\b/)) {
    const range = /(\d+)\s*[–-]\s*(\d+)/.exec(piece);
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (b < a || b - a > 100_000) return undefined;
      for (let n = a; n <= b; n++) out.add(n);
    } else if (/\d+/.test(piece)) out.add(Number(/\d+/.exec(piece)![0]));
  }
  return out.size ? [...out].sort((x, y) => x - y) : undefined;
}

export function outcomeOf(u: BuildUpload) {
  const s = u.attributes?.state;
  return {
    state: uploadState(u),
    buildId: (u.relationships?.build as { data?: { id: string } } | undefined)?.data?.id ?? null,
    warnings: (s?.warnings ?? []).map((w) => ({ code: String(w.code), description: String(w.description) })),
  };
}

/** Apple's processing failure, by its numeric code: used build number, closed train, or anything else. */
export function assertNotFailed(u: BuildUpload, input: BuildRef): void {
  if (uploadState(u) !== 'FAILED') return;
  const errors = u.attributes?.state?.errors ?? [];
  const text = errors.map((e) => `${e.code}: ${e.description}`).join('; ');
  const has = (...codes: string[]) => errors.some((e) => codes.includes(String(e.code)));
  const code = has('90189') ? 'BUILD_NUMBER_USED' : has('90186', '90062') ? 'VERSION_TRAIN_CLOSED' : 'UPLOAD_REJECTED';
  throw new AscendError(
    code,
    `Apple rejected build ${input.version} (${input.buildNumber}): ${text || 'no reason given'}`,
    {
      details: { uploadId: u.id, errors },
    },
  );
}

export { getBuildUploadFile };
