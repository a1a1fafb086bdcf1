import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AscClient } from '../asc/http/client.js';
import type { BuildUploadFile } from '../asc/resources/build-upload-files.js';
import { type BuildUpload, getBuildUpload } from '../asc/resources/build-uploads.js';
import type { ByteSource } from '../core/byte-source.js';
import type { Clock, Sleep } from '../core/clock.js';
import { AscendError } from '../core/errors.js';
import { pollUntil } from '../core/poll.js';
import { JsonFileStateStore } from '../core/state.js';
import { fileChecksums } from '../ipa/inspect.js';
import { FileLock, holdLock } from '../upload/lock.js';
import { parseSavedUpload } from '../upload/state.js';
import { outranked, settleOthers } from './upload-others.js';
import {
  assertNotFailed,
  CREATE_SKEW_MS,
  createdAt,
  dropUpload,
  getBuildUploadFile,
  outcomeOf,
  readUpload,
  reservedFile,
  uploadState,
} from './upload-remote.js';
import {
  createUpload,
  ensureReserved,
  forget,
  type Run,
  readState,
  sendAndCommit,
  type UploadDeps,
  type UploadEvent,
  type UploadInput,
  type UploadResult,
  where,
} from './upload-run.js';

export type { UploadDeps, UploadEvent, UploadInput, UploadResult } from './upload-run.js';

// The upload's state key comes from the one key function, which bounds file-controlled parts (versions).
import { uploadStateKey } from './state-keys.js';

export { uploadStateKey };

/**
 * Uploads one build through the Build Upload API (create → reserve → parts → commit → processing) so that
 * running it again after a crash continues where it stopped, a lost answer to a write is reconciled by
 * reading, one build never has two live uploads, and two runs for the same build end with one build.
 */
export async function uploadBuild(input: UploadInput, deps: UploadDeps): Promise<UploadResult> {
  const key = uploadStateKey(input);
  const emit = (e: UploadEvent) => deps.onEvent?.(e);
  const lock = deps.lock ?? (deps.state instanceof JsonFileStateStore ? new FileLock(deps.state.dir) : undefined);
  const held = lock
    ? await holdLock(lock, key, {
        deadline: input.deadline,
        clock: deps.clock,
        sleep: deps.sleep,
        signal: deps.signal,
        onWait: (holder) => emit({ type: 'step', step: 'lock', detail: `waiting for ${holder}, uploading this build` }),
      })
    : undefined;
  const source = deps.openSource ? await deps.openSource(input.file) : undefined;
  try {
    return await runUpload(await openRun(input, deps, key, source));
  } finally {
    await source?.close();
    await held?.release();
  }
}

async function runUpload(run: Run): Promise<UploadResult> {
  for (;;) {
    let upload = await resumeSaved(run);
    if (!upload) {
      const others = await settleOthers(run.deps.client, run.input, othersOptions(run));
      if (others.kind === 'theirs') return theirResult(run, others.upload);
      upload = others.kind === 'own' ? await adoptOwn(run, others.upload) : await createUpload(run);
      // Checked after creating and again after reserving: a rival created in the same instant is seen by one
      // of the two checks, so exactly one of two simultaneous clients goes on to send.
      if (others.kind === 'none') {
        if (await yieldTo(run, upload)) continue;
        await ensureReserved(run);
        if (await yieldTo(run, upload)) continue;
      }
    }
    if (uploadState(upload) === 'AWAITING_UPLOAD' && !run.saved!.committed) await sendAndCommit(run);
    return finish(run);
  }
}

function othersOptions(run: Run) {
  const { deps, input } = run;
  return {
    ownSince: run.ownSince,
    fileSize: run.file.size,
    wait: input.wait,
    deadline: input.deadline,
    clock: deps.clock,
    sleep: deps.sleep,
    signal: deps.signal,
    note: (text: string) => run.emit({ type: 'step', step: 'other', detail: text }),
  };
}

/**
 * After creating: if another client created one for the same build first, remove ours (nothing sent yet).
 * An earlier upload awaiting its bytes, made since this run first sent a create it had to send again, may be
 * that first create, which landed while Apple's list did not show it yet: it is continued as this run's own
 * rather than waited for as someone else's (nobody would ever send its bytes).
 */
async function yieldTo(run: Run, mine: BuildUpload): Promise<boolean> {
  const rival = await outranked(run.deps.client, run.input, mine);
  if (!rival) return false;
  const since = run.resentSince;
  const ours =
    since !== undefined && uploadState(rival) === 'AWAITING_UPLOAD' && createdAt(rival) >= since - CREATE_SKEW_MS;
  run.emit({
    type: 'step',
    step: 'other',
    detail: ours
      ? `upload ${rival.id} was made by this run's first create, whose answer was lost; continuing it`
      : `another client created upload ${rival.id} first; using it`,
  });
  await dropUpload(run.deps.client, mine.id);
  await forget(run);
  run.saved = undefined;
  // Someone else's rival is never this folder's, whatever its state said at the start; our own is adopted.
  run.ownSince = ours ? since : undefined;
  run.resentSince = undefined;
  return true;
}

/** Reads the file's facts and the saved state; a damaged state is dropped and healed from Apple's side. */
async function openRun(input: UploadInput, deps: UploadDeps, key: string, source?: ByteSource): Promise<Run> {
  const st = source ?? (await stat(input.file));
  const file = { name: source?.name ?? basename(input.file), size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
  const run: Run = { input, deps, key, file, resumed: false, peak: 0, emit: (e) => deps.onEvent?.(e) };
  if (source) run.source = source;
  const parsed = parseSavedUpload(await readState(deps.state, key));
  if (parsed.kind === 'damaged') {
    run.emit({
      type: 'step',
      step: 'heal',
      detail: `${where(run)} is damaged (${parsed.why}); recovering from App Store Connect`,
    });
    // The folder held something for this build: an upload of it awaiting bytes is taken as this folder's own.
    run.ownSince = 0;
    await forget(run);
  } else if (parsed.kind === 'ok' && parsed.saved.uploadId === undefined) {
    run.ownSince = parsed.saved.creatingSince;
  } else if (parsed.kind === 'ok') run.saved = parsed.saved;
  return run;
}

/** The saved upload if it can still be finished; otherwise it is removed and forgotten. */
async function resumeSaved(run: Run): Promise<BuildUpload | undefined> {
  const saved = run.saved;
  if (!saved) return undefined;
  const { client } = run.deps;
  const f = run.file;
  const changed = saved.file.size !== f.size || saved.file.mtimeMs !== f.mtimeMs || saved.file.name !== f.name;
  const upload = changed ? undefined : await readUpload(client, saved.uploadId!);
  const expired = saved.expiresAt !== undefined && saved.expiresAt < run.deps.clock.now() + 60_000;
  if (!upload || uploadState(upload) === 'FAILED' || (uploadState(upload) === 'AWAITING_UPLOAD' && expired)) {
    // The file changed (its parts cannot be mixed with new bytes), the upload is gone, failed or expired.
    if (changed || (upload && uploadState(upload) !== 'FAILED')) await dropUpload(client, saved.uploadId!);
    await forget(run);
    run.saved = undefined;
    return undefined;
  }
  run.resumed = true;
  run.emit({ type: 'step', step: 'resume', detail: `${saved.partsDone?.length ?? 0} parts already sent` });
  return upload;
}

/** An upload this folder made but could not record (killed, or the state damaged): continue it. */
async function adoptOwn(run: Run, upload: BuildUpload): Promise<BuildUpload> {
  const file = await reservedFile(run.deps.client, upload.id);
  run.saved = { uploadId: upload.id, fileId: file?.id, partsDone: [], file: run.file };
  run.resumed = true;
  run.emit({ type: 'step', step: 'resume', detail: `continuing upload ${upload.id} made by an earlier run` });
  await run.deps.state.put(run.key, run.saved);
  return upload;
}

async function finish(run: Run): Promise<UploadResult> {
  const { input, deps } = run;
  const saved = run.saved!;
  const base = { uploadId: saved.uploadId!, fileId: saved.fileId ?? '', md5: saved.md5 ?? '', resumed: run.resumed };
  if (!input.wait) return { ...base, state: 'PROCESSING', buildId: null, warnings: [], peakBufferedBytes: run.peak };
  run.emit({ type: 'step', step: 'processing' });
  const final = await waitForUpload(deps.client, saved.uploadId!, {
    deadline: input.deadline,
    clock: deps.clock,
    sleep: deps.sleep,
    signal: deps.signal,
    onState: (state) => run.emit({ type: 'state', state }),
  });
  await forget(run);
  assertNotFailed(final, input);
  run.emit({ type: 'step', step: 'done' });
  return { ...base, ...outcomeOf(final), peakBufferedBytes: run.peak };
}

/** Another client's upload of this build went through: its build is this run's result. */
async function theirResult(run: Run, listed: BuildUpload): Promise<UploadResult> {
  const { client } = run.deps;
  // The list carries no linkage; the build and file are read with `include`.
  const upload = (await readUpload(client, listed.id)) ?? listed;
  assertNotFailed(upload, run.input);
  const fileId = upload.relationships?.assetFile?.data?.id;
  const file = fileId ? await getBuildUploadFile(client, fileId) : undefined;
  await assertSameBinary(run, upload.id, file);
  run.emit({ type: 'step', step: 'done', detail: `used upload ${upload.id} made by another client` });
  return {
    uploadId: upload.id,
    fileId: file?.id ?? '',
    md5: file?.attributes?.sourceFileChecksums?.file?.hash ?? '',
    resumed: false,
    adopted: true,
    ...outcomeOf(upload),
    peakBufferedBytes: 0,
  };
}

/**
 * Another client's build is this run's result only if it came from the same file: its size, and its checksum
 * when Apple kept one. Otherwise the build number is simply taken.
 */
async function assertSameBinary(run: Run, uploadId: string, file: BuildUploadFile | undefined): Promise<void> {
  const sum = file?.attributes?.sourceFileChecksums?.file;
  let same = file?.attributes?.fileSize === undefined || file.attributes.fileSize === run.file.size;
  if (same && sum?.hash) {
    const mine = await fileChecksums(run.source ?? run.input.file);
    same = sum.hash.toLowerCase() === (sum.algorithm === 'SHA_256' ? mine.sha256 : mine.md5);
  }
  if (same) return;
  const { version, buildNumber } = run.input;
  throw new AscendError(
    'BUILD_NUMBER_USED',
    `build ${buildNumber} of version ${version} was uploaded from a different file (upload ${uploadId})`,
  );
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
