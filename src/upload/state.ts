/**
 * What an upload saves between runs, and the check that a saved value really has that shape. State files
 * are hostile input like any other: a file hand-edited to `{}`, or one whose part list claims more than
 * Apple has, must lead to a healed upload, not a crash reading 'size' of undefined.
 */

export interface SavedFile {
  name: string;
  size: number;
  mtimeMs: number;
}

export interface SavedUpload {
  /** Absent only between "about to create" and the create's answer (see `creatingSince`). */
  uploadId?: string;
  /**
   * Epoch ms at which this run was about to create an upload. If the process dies before the answer is
   * saved, the next run knows an upload of this build made after that moment is its own.
   */
  creatingSince?: number;
  fileId?: string;
  /** Earliest expiry of the reserved operations (the operations themselves are saved once, apart). */
  expiresAt?: number;
  partsDone?: number[];
  md5?: string;
  committed?: boolean;
  file: SavedFile;
}

export type ParsedState =
  | { kind: 'none' }
  | { kind: 'ok'; saved: SavedUpload }
  /** Present but not an upload state we wrote: the caller heals from what Apple reports. */
  | { kind: 'damaged'; why: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const optional = (v: unknown, test: (x: unknown) => boolean) => v === undefined || test(v);
const isId = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 200;

/** Checks a saved value field by field; anything unexpected is "damaged", with the first reason found. */
export function parseSavedUpload(value: unknown): ParsedState {
  if (value === undefined) return { kind: 'none' };
  if (!isObject(value)) return { kind: 'damaged', why: 'it is not a JSON object' };
  const f = value.file;
  if (!isObject(f) || typeof f.name !== 'string' || !isCount(f.size) || typeof f.mtimeMs !== 'number')
    return { kind: 'damaged', why: 'it does not describe the file (name, size, mtimeMs)' };
  if (!optional(value.uploadId, isId) || !optional(value.fileId, isId))
    return { kind: 'damaged', why: 'an upload or file id is not a string' };
  if (value.uploadId === undefined && !isCount(value.creatingSince))
    return { kind: 'damaged', why: 'it names no upload' };
  if (!optional(value.expiresAt, (v) => typeof v === 'number') || !optional(value.md5, (v) => typeof v === 'string'))
    return { kind: 'damaged', why: 'expiresAt or md5 has the wrong type' };
  if (!optional(value.committed, (v) => typeof v === 'boolean'))
    return { kind: 'damaged', why: 'committed is not true or false' };
  const parts = value.partsDone;
  if (!optional(parts, (v) => Array.isArray(v) && v.every((n) => isCount(n) && n >= 1)))
    return { kind: 'damaged', why: 'partsDone is not a list of part numbers' };
  return { kind: 'ok', saved: value as unknown as SavedUpload };
}

/** The saved upload operations, if they still look like a list of operations; otherwise they are re-read. */
export function savedOperations<T>(value: unknown): T[] | undefined {
  return Array.isArray(value) && value.length > 0 && value.every(isObject) ? (value as T[]) : undefined;
}
