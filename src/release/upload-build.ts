import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AscClient } from '../asc/http/client.js';
import { AscApiError, AscNetworkError } from '../asc/http/errors.js';
import {
  commitBuildUploadFile,
  getBuildUploadFile,
  reserveBuildUploadFile,
  type UploadOperation,
} from '../asc/resources/build-upload-files.js';
import {
  type BuildUpload,
  createBuildUpload,
  deleteBuildUpload,
  getBuildUpload,
  listBuildUploads,
} from '../asc/resources/build-uploads.js';
import type { Platform } from '../asc/resources/common.js';
import type { Clock, Random, Sleep } from '../core/clock.js';
import { AscendError } from '../core/errors.js';
import { pollUntil } from '../core/poll.js';
import type { StateStore } from '../core/state.js';
import { compareDotted } from '../core/versions.js';
import { type PartTransport, uploadParts } from '../upload/engine.js';
import { planParts } from '../upload/operations.js';
import { idempotentWrite, writeOnce } from './reconcile.js';

export type UploadEvent =
  | {
      type: 'step';
      step: 'create' | 'reserve' | 'resume' | 'parts' | 'commit' | 'processing' | 'done';
      detail?: string;
    }
  | { type: 'progress'; sent: number; total: number }
  | { type: 'state'; state: string };

export interface UploadInput {
  file: string;
  appId: string;
  platform: Platform;
  version: string;
  buildNumber: string;
  concurrency: number;
  wait: boolean;
  /** Epoch ms by which the whole command must be done. */
  deadline: number;
}

export interface UploadDeps {
  client: AscClient;
  state: StateStore;
  clock: Clock;
  sleep: Sleep;
  random: Random;
  transport: PartTransport;
  onEvent?: (e: UploadEvent) => void;
  signal?: AbortSignal;
}

export interface UploadResult {
  uploadId: string;
  fileId: string;
  md5: string;
  state: string;
  buildId: string | null;
  resumed: boolean;
  warnings: { code: string; description: string }[];
  /** Most bytes held at once for the in-order checksum (0 when no part was sent in this run). */
  peakBufferedBytes: number;
}

/** What is saved between runs so a killed upload resumes instead of starting over. */
interface SavedUpload {
  uploadId: string;
  fileId?: string;
  /** Earliest expiry of the reserved operations (the operations themselves are saved once, apart). */
  expiresAt?: number;
  partsDone?: number[];
  md5?: string;
  committed?: boolean;
  file: { name: string; size: number; mtimeMs: number };
}

const stateKey = (i: UploadInput) => `upload-${i.appId}-${i.platform}-${i.version}-${i.buildNumber}`;
/** The operations (hundreds for a large file) are written once, not with every finished part. */
const opsKey = (key: string) => `${key}-operations`;
const uploadState = (u: BuildUpload) => u.attributes?.state?.state ?? 'AWAITING_UPLOAD';

/**
 * Uploads one build through the Build Upload API (create → reserve → parts → commit → processing) so that
 * running it again after a crash continues where it stopped, a lost answer to a write is reconciled by
 * reading, and one build never has two live uploads.
 */
export async function uploadBuild(input: UploadInput, deps: UploadDeps): Promise<UploadResult> {
  const { client, state } = deps;
  const emit = (e: UploadEvent) => deps.onEvent?.(e);
  const st = await stat(input.file);
  const fileInfo = { name: basename(input.file), size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
  const key = stateKey(input);
  let saved = await state.get<SavedUpload>(key);
  let resumed = false;

  if (
    saved &&
    (saved.file.size !== fileInfo.size || saved.file.mtimeMs !== fileInfo.mtimeMs || saved.file.name !== fileInfo.name)
  ) {
    // The file changed since the interrupted run: its parts cannot be mixed with the new bytes.
    await dropUpload(client, saved.uploadId);
    await forget(state, key);
    saved = undefined;
  }
  let upload: BuildUpload | undefined;
  if (saved) {
    upload = await readUpload(client, saved.uploadId);
    const expired = saved.expiresAt !== undefined && saved.expiresAt < deps.clock.now() + 60_000;
    if (!upload || uploadState(upload) === 'FAILED' || (uploadState(upload) === 'AWAITING_UPLOAD' && expired)) {
      if (upload && uploadState(upload) !== 'FAILED') await dropUpload(client, saved.uploadId);
      await forget(state, key);
      saved = undefined;
      upload = undefined;
    } else {
      resumed = true;
      emit({ type: 'step', step: 'resume', detail: `${saved.partsDone?.length ?? 0} parts already sent` });
    }
  }

  if (!saved) {
    // An upload left AWAITING_UPLOAD by a run that died before saving its state is an orphan: remove it,
    // so the build never has two live uploads.
    for (const u of await uploadsFor(client, input)) {
      if (uploadState(u) === 'AWAITING_UPLOAD') await dropUpload(client, u.id);
    }
    emit({ type: 'step', step: 'create' });
    upload = await createOrReconcile(client, input);
    saved = { uploadId: upload.id, file: fileInfo };
    await state.put(key, saved);
  }
  const current = saved;
  let peakBufferedBytes = 0;

  if (uploadState(upload!) === 'AWAITING_UPLOAD' && !current.committed) {
    if (!current.fileId) {
      emit({ type: 'step', step: 'reserve' });
      const file = await reserveOrReconcile(client, current.uploadId, input, fileInfo);
      current.fileId = file.id;
      const operations = file.attributes?.uploadOperations ?? [];
      const expiries = operations.map((o) => (o.expiration ? Date.parse(o.expiration) : Number.POSITIVE_INFINITY));
      current.expiresAt = Math.min(...expiries);
      current.partsDone = [];
      await state.put(opsKey(key), operations);
      await state.put(key, current);
    }
    const operations = await state.get<UploadOperation[]>(opsKey(key));
    const parts = planParts(operations, fileInfo.size);
    emit({ type: 'step', step: 'parts', detail: `${parts.length} parts, ${input.concurrency} at a time` });
    const done = new Set(current.partsDone ?? []);
    // Every finished part is recorded; writes coalesce, so a burst of parts costs one or two file writes.
    let saving: Promise<void> | undefined;
    let dirty = false;
    const save = (): void => {
      if (saving) {
        dirty = true;
        return;
      }
      saving = state.put(key, { ...current, partsDone: [...done] }).finally(() => {
        saving = undefined;
        if (dirty) {
          dirty = false;
          save();
        }
      });
    };
    const result = await uploadParts({
      file: input.file,
      parts,
      done,
      concurrency: input.concurrency,
      transport: deps.transport,
      sleep: deps.sleep,
      random: deps.random,
      now: () => deps.clock.now(),
      signal: deps.signal,
      onProgress: (sent, total) => emit({ type: 'progress', sent, total }),
      onPartDone: (n) => {
        done.add(n);
        save();
      },
    });
    while (saving) await saving;
    current.partsDone = [...done];
    current.md5 = result.md5;
    peakBufferedBytes = result.peakBufferedBytes;
    await state.put(key, current);
    emit({ type: 'step', step: 'commit' });
    await commitOrReconcile(client, current.fileId!, result.md5);
    current.committed = true;
    await state.put(key, current);
  }

  if (!input.wait) {
    return {
      uploadId: current.uploadId,
      fileId: current.fileId ?? '',
      md5: current.md5 ?? '',
      state: 'PROCESSING',
      buildId: null,
      resumed,
      warnings: [],
      peakBufferedBytes,
    };
  }
  emit({ type: 'step', step: 'processing' });
  const final = await waitForUpload(client, current.uploadId, {
    deadline: input.deadline,
    clock: deps.clock,
    sleep: deps.sleep,
    signal: deps.signal,
    onState: (state) => emit({ type: 'state', state }),
  });
  await forget(state, key);
  const s = final.attributes?.state;
  if (uploadState(final) === 'FAILED') {
    const errs = (s?.errors ?? []).map((e) => `${e.code}: ${e.description}`).join('; ');
    const code = (s?.errors ?? []).some((e) => e.code === '90189')
      ? 'BUILD_NUMBER_USED'
      : (s?.errors ?? []).some((e) => e.code === '90186' || e.code === '90062')
        ? 'VERSION_TRAIN_CLOSED'
        : 'UPLOAD_REJECTED';
    throw new AscendError(
      code,
      `Apple rejected build ${input.version} (${input.buildNumber}): ${errs || 'no reason given'}`,
      {
        details: { uploadId: current.uploadId, errors: s?.errors ?? [] },
      },
    );
  }
  emit({ type: 'step', step: 'done' });
  const buildId = (final.relationships?.build as { data?: { id: string } } | undefined)?.data?.id ?? null;
  return {
    uploadId: current.uploadId,
    fileId: current.fileId ?? '',
    md5: current.md5 ?? '',
    state: uploadState(final),
    buildId,
    resumed,
    warnings: (s?.warnings ?? []).map((w) => ({ code: String(w.code), description: String(w.description) })),
    peakBufferedBytes,
  };
}

async function forget(state: StateStore, key: string): Promise<void> {
  await state.delete(opsKey(key));
  await state.delete(key);
}

async function readUpload(client: AscClient, id: string): Promise<BuildUpload | undefined> {
  try {
    return (await getBuildUpload(client, id, ['build', 'assetFile'])).data;
  } catch (err) {
    if (err instanceof AscApiError && err.isNotFound) return undefined;
    throw err;
  }
}

async function dropUpload(client: AscClient, id: string): Promise<void> {
  try {
    // Deleting twice is harmless (the second answers 404), so an ambiguous DELETE is simply sent again.
    await idempotentWrite(() => deleteBuildUpload(client, id));
  } catch (err) {
    if (err instanceof AscApiError && (err.isNotFound || err.isConflict)) return; // gone already, or past deleting
    throw err;
  }
}

async function uploadsFor(client: AscClient, input: UploadInput): Promise<BuildUpload[]> {
  const list = await listBuildUploads(client, input.appId, { version: input.version, platform: input.platform });
  return list.filter((u) => compareDotted(u.attributes?.cfBundleVersion ?? '', input.buildNumber) === 0);
}

/** POST /v1/buildUploads is not retried blindly; if its answer is lost, the upload it made is found by listing. */
async function createOrReconcile(client: AscClient, input: UploadInput): Promise<BuildUpload> {
  return writeOnce(
    () => createBuildUpload(client, input),
    async () => {
      const made = (await uploadsFor(client, input)).filter((u) => uploadState(u) === 'AWAITING_UPLOAD');
      return made.length === 1 ? made[0] : undefined;
    },
  );
}

async function reserveOrReconcile(client: AscClient, uploadId: string, input: UploadInput, file: SavedUpload['file']) {
  const uti = input.platform === 'MAC_OS' ? 'com.apple.pkg' : 'com.apple.ipa';
  const find = async () => {
    const fileId = (await getBuildUpload(client, uploadId, ['assetFile'])).data.relationships?.assetFile?.data?.id;
    return fileId ? getBuildUploadFile(client, fileId) : undefined;
  };
  try {
    return await writeOnce(
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

/** The commit is never sent blindly twice: after an ambiguous answer the file's state tells whether it landed. */
async function commitOrReconcile(client: AscClient, fileId: string, md5: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await commitBuildUploadFile(client, fileId, md5);
      return;
    } catch (err) {
      const ambiguous =
        err instanceof AscNetworkError ||
        (err instanceof AscApiError && (err.status >= 500 || err.status === 429 || err.isConflict));
      if (!ambiguous || attempt >= 4) throw err;
      const file = await getBuildUploadFile(client, fileId);
      const s = file.attributes?.assetDeliveryState?.state;
      if (s && s !== 'AWAITING_UPLOAD') return; // the first commit landed
      if (err instanceof AscApiError && err.isConflict) throw err; // a real refusal (e.g. checksum mismatch)
    }
  }
}

/** Watches a build upload until COMPLETE or FAILED; a failure is reported the moment Apple records it. */
export async function waitForUpload(
  client: AscClient,
  uploadId: string,
  o: { deadline: number; clock: Clock; sleep: Sleep; signal?: AbortSignal; onState?: (state: string) => void },
): Promise<BuildUpload> {
  let last = '';
  return pollUntil(
    async () => (await getBuildUpload(client, uploadId, ['build'])).data,
    (u) => uploadState(u) === 'COMPLETE' || uploadState(u) === 'FAILED',
    {
      ...o,
      onValue: (u) => {
        if (uploadState(u) !== last) o.onState?.(uploadState(u));
        last = uploadState(u);
      },
      onDeadline: (u) =>
        new AscendError('DEADLINE_EXCEEDED', `build upload ${uploadId} is still ${uploadState(u)} at the deadline`, {
          remedy: `Check it later with \`ascend builds list\`, or raise --timeout; the upload itself is safe (id ${uploadId}).`,
        }),
    },
  );
}
