import type { AscClient } from '../asc/http/client.js';
import type { BuildUpload } from '../asc/resources/build-uploads.js';
import type { Platform } from '../asc/resources/common.js';
import type { ByteSource, OpenSource } from '../core/byte-source.js';
import type { Clock, Random, Sleep } from '../core/clock.js';
import { AscendError, isAscendError } from '../core/errors.js';
import { JsonFileStateStore, type StateStore } from '../core/state.js';
import { escapeControl } from '../core/text.js';
import { type PartTransport, uploadParts } from '../upload/engine.js';
import type { BuildLock } from '../upload/lock.js';
import { type PartPlan, planParts } from '../upload/operations.js';
import { type SavedFile, type SavedUpload, savedOperations } from '../upload/state.js';
import { commitFile, createOrReconcile, dropUpload, getBuildUploadFile, reserveOrReconcile } from './upload-remote.js';

/**
 * One run of the upload step and its send-and-commit job: reserve the file, load the part plan, send what
 * Apple lacks, commit, and heal what the commit reports.
 */

export type UploadEvent =
  | {
      type: 'step';
      step: 'lock' | 'create' | 'reserve' | 'resume' | 'other' | 'heal' | 'parts' | 'commit' | 'processing' | 'done';
      detail?: string;
    }
  /** `sent`: bytes Apple's side acknowledged; `sending`: bytes read into parts not yet answered. */
  | { type: 'progress'; sent: number; total: number; sending?: number }
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
  /** One upload of a build at a time; default: a lock file beside a JSON-file state store, none otherwise. */
  lock?: BuildLock;
  /** Where `file`'s bytes come from: the file system by default, the server's artifact on a remote worker. */
  openSource?: OpenSource;
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
  /** True when another client's upload of the same build was used instead of sending this file. */
  adopted?: boolean;
}

/** The operations (hundreds for a large file) are written once, not with every finished part. */
export const opsKey = (key: string) => `${key}-operations`;

/** One run of the upload step: its inputs, what it has saved, and what it reports. */
export interface Run {
  input: UploadInput;
  deps: UploadDeps;
  key: string;
  file: SavedFile;
  /** The file's bytes when they come from an injected source (a remote worker); the file path otherwise. */
  source?: ByteSource;
  saved?: SavedUpload;
  /** Set when the state cannot name this folder's upload but one may exist (see settleOthers). */
  ownSince?: number;
  /** When this run's create was sent more than once (a lost answer), the time of the first: see yieldTo. */
  resentSince?: number;
  resumed: boolean;
  peak: number;
  emit: (e: UploadEvent) => void;
}

/** A state file that is not even JSON is as damaged as one with the wrong shape: both are healed. */
export async function readState(state: StateStore, key: string): Promise<unknown> {
  try {
    return await state.get<unknown>(key);
  } catch (err) {
    if (isAscendError(err) && err.code === 'STATE_FILE_INVALID') return 'unreadable';
    throw err;
  }
}

export const where = (run: Run) =>
  run.deps.state instanceof JsonFileStateStore ? run.deps.state.pathOf(run.key) : `the saved state ${run.key}`;

export async function createUpload(run: Run): Promise<BuildUpload> {
  const { deps, input } = run;
  const since = deps.clock.now();
  // Recorded before the create, so a run killed before saving its answer knows the upload is its own.
  await deps.state.put<SavedUpload>(run.key, { creatingSince: since, file: run.file });
  run.emit({ type: 'step', step: 'create' });
  const { upload, resent } = await createOrReconcile(deps.client, input, since);
  if (resent) run.resentSince = since;
  run.saved = { uploadId: upload.id, file: run.file };
  await deps.state.put(run.key, run.saved);
  return upload;
}

/** Reserve, send, commit; heals what Apple reports at commit (missing parts, damaged bytes). */
export async function sendAndCommit(run: Run): Promise<void> {
  for (let replaced = false; ; ) {
    await ensureReserved(run);
    const parts = await loadParts(run);
    let md5 = await sendParts(run, parts);
    run.emit({ type: 'step', step: 'commit' });
    let end = await commitFile(run.deps.client, run.saved!.fileId!, md5);
    if (end.kind === 'missing') {
      const lacking = end.parts ?? parts.map((p) => p.partNumber);
      run.emit({ type: 'step', step: 'heal', detail: `Apple lacks ${lacking.length} part(s); sending them again` });
      run.saved!.partsDone = (run.saved!.partsDone ?? []).filter((n) => !lacking.includes(n));
      await run.deps.state.put(run.key, run.saved);
      md5 = await sendParts(run, parts);
      end = await commitFile(run.deps.client, run.saved!.fileId!, md5);
    }
    if (end.kind === 'committed') {
      Object.assign(run.saved!, { md5, committed: true });
      await run.deps.state.put(run.key, run.saved);
      return;
    }
    if (end.kind === 'mismatch' && !replaced) {
      replaced = true;
      await replaceUpload(run, end.detail);
      continue;
    }
    throw new AscendError('ASC_CONFLICT', `Apple refused the commit of upload ${run.saved!.uploadId}: ${end.detail}`, {
      remedy: `Run the same command again; if it is refused again, delete ${where(run)} and check the file is not changing.`,
    });
  }
}

/**
 * Apple holds bytes that do not match the file (a part damaged on the way): the upload cannot be repaired
 * part by part, so it is deleted and a new one created — deleted first, so the build never has two.
 */
async function replaceUpload(run: Run, detail: string): Promise<void> {
  run.emit({
    type: 'step',
    step: 'heal',
    detail: `Apple's copy does not match the file (${detail}); replacing the upload`,
  });
  await dropUpload(run.deps.client, run.saved!.uploadId!);
  await forget(run);
  await createUpload(run);
}

export async function ensureReserved(run: Run): Promise<void> {
  const saved = run.saved!;
  if (saved.fileId) return;
  run.emit({ type: 'step', step: 'reserve' });
  const file = await reserveOrReconcile(run.deps.client, saved.uploadId!, run.input.platform, run.file);
  saved.fileId = file.id;
  saved.partsDone = [];
  await saveOperations(run, file.attributes?.uploadOperations);
  await run.deps.state.put(run.key, saved);
}

async function saveOperations(run: Run, operations: unknown[] | undefined): Promise<void> {
  const expiries = (operations ?? []).map(
    (o) => Date.parse((o as { expiration?: string }).expiration ?? '') || Infinity,
  );
  run.saved!.expiresAt = expiries.length ? Math.min(...expiries) : undefined;
  if (run.saved!.expiresAt === Infinity) run.saved!.expiresAt = undefined;
  await run.deps.state.put(opsKey(run.key), operations ?? []);
}

/**
 * The part plan from the saved operations, or — when that copy is lost or damaged — from Apple's file,
 * which still carries them. Operations Apple itself hands out wrong cannot be used: the upload is removed,
 * so running again starts clean.
 */
async function loadParts(run: Run): Promise<PartPlan[]> {
  const local = savedOperations<never>(await readState(run.deps.state, opsKey(run.key)));
  if (local) {
    try {
      return planParts(local, run.file.size);
    } catch {
      // fall through to Apple's copy
    }
  }
  const file = await getBuildUploadFile(run.deps.client, run.saved!.fileId!);
  try {
    const parts = planParts(file.attributes?.uploadOperations, run.file.size);
    await saveOperations(run, file.attributes?.uploadOperations);
    await run.deps.state.put(run.key, run.saved);
    return parts;
  } catch (err) {
    await dropUpload(run.deps.client, run.saved!.uploadId!);
    await forget(run);
    throw err;
  }
}

/** Sends the parts not yet acknowledged, recording each as it finishes; returns the whole file's MD5. */
async function sendParts(run: Run, parts: PartPlan[]): Promise<string> {
  const { deps, input } = run;
  const known = new Set(parts.map((p) => p.partNumber));
  // A state claiming parts the plan does not have is not believed; Apple's commit says what it lacks.
  const done = new Set((run.saved!.partsDone ?? []).filter((n) => known.has(n)));
  const pending = parts.length - done.size;
  run.emit({
    type: 'step',
    step: 'parts',
    detail: `${pending} of ${parts.length} parts to send, ${input.concurrency} at a time`,
  });
  const saver = coalescedSaver(() => putState(run, { ...run.saved, partsDone: [...done] }));
  const result = await uploadParts({
    file: input.file,
    ...(run.source ? { source: run.source } : {}),
    parts,
    done,
    concurrency: input.concurrency,
    transport: deps.transport,
    sleep: deps.sleep,
    random: deps.random,
    now: () => deps.clock.now(),
    signal: deps.signal,
    onProgress: (sent, total, sending) => run.emit({ type: 'progress', sent, total, sending }),
    onPartDone: (n) => {
      done.add(n);
      saver.save();
    },
  }).finally(() => saver.flush());
  run.saved!.partsDone = [...done];
  run.peak = Math.max(run.peak, result.peakBufferedBytes);
  await putState(run, run.saved);
  return result.md5;
}

/**
 * Every finished part is recorded; writes coalesce, so a burst of parts costs one or two writes. A write
 * that fails (a full disk) stops the upload: the next part's save and the final flush throw it, rather than
 * leaving it to reject unheard and crash the process.
 */
export function coalescedSaver(write: () => Promise<void>) {
  let saving: Promise<void> | undefined;
  let dirty = false;
  let failed: { err: unknown } | undefined;
  const save = (): void => {
    if (failed) throw failed.err;
    if (saving) {
      dirty = true;
      return;
    }
    saving = write()
      .catch((err: unknown) => {
        failed ??= { err };
      })
      .finally(() => {
        saving = undefined;
        if (dirty && !failed) {
          dirty = false;
          save();
        }
      });
  };
  return {
    save,
    flush: async () => {
      while (saving) await saving;
      if (failed) throw failed.err;
    },
  };
}

/** Saves the upload's progress; a store that cannot write says so in one line, naming where and why. */
async function putState(run: Run, value: unknown): Promise<void> {
  try {
    await run.deps.state.put(run.key, value);
  } catch (err) {
    if (isAscendError(err)) throw err;
    const why = escapeControl(err instanceof Error ? err.message : String(err));
    throw new AscendError('STATE_WRITE_FAILED', `cannot save the upload's progress to ${where(run)}: ${why}`, {
      cause: err,
    });
  }
}

export async function forget(run: Run): Promise<void> {
  await run.deps.state.delete(opsKey(run.key));
  await run.deps.state.delete(run.key);
}
