import type { AscClient } from '../asc/http/client.js';
import type { BuildUpload } from '../asc/resources/build-uploads.js';
import type { Clock, Sleep } from '../core/clock.js';
import { AscendError } from '../core/errors.js';
import { type BuildRef, dropUpload, reservedFile, uploadState, uploadsFor } from './upload-remote.js';

/**
 * Apple shows no per-part progress of an upload, only: created → file reserved → file committed
 * (`assetDeliveryState` leaves AWAITING_UPLOAD). An upload awaiting its bytes is someone's work in progress
 * until one of these says it was abandoned (docs/API_NOTES.md, "Another client's upload"):
 */
/** No file reserved this long after creation: reserving follows creating within seconds. */
export const NO_FILE_ABANDONED_MS = 10 * 60_000;
/** Still awaiting its bytes this long after creation: a 4 GiB build at 1 MB/s takes about 70 minutes. */
export const AWAITING_ABANDONED_MS = 3 * 60 * 60_000;
/** A reservation that expires within this margin cannot be finished by anyone. */
const EXPIRY_MARGIN_MS = 60_000;

export type Others =
  /** Nothing of this build is in flight: create one. */
  | { kind: 'none' }
  /** An upload this state folder made before it could record it: continue it. */
  | { kind: 'own'; upload: BuildUpload }
  /** Another client's upload went through (COMPLETE, or PROCESSING when not waiting): use its result. */
  | { kind: 'theirs'; upload: BuildUpload };

export interface OthersOptions {
  /** Uploads created since this moment (ms) are this run's own; undefined when the state names none. */
  ownSince?: number;
  fileSize: number;
  wait: boolean;
  deadline: number;
  clock: Clock;
  sleep: Sleep;
  signal?: AbortSignal;
  note: (text: string) => void;
}

const createdAt = (u: BuildUpload) => Date.parse(u.attributes?.createdDate ?? '') || 0;

/**
 * Before creating an upload, settles the ones other clients made for the same build: never deletes one that
 * may still be sending, waits for it instead and uses its build; removes only abandoned ones.
 */
export async function settleOthers(client: AscClient, b: BuildRef, o: OthersOptions): Promise<Others> {
  let delay = 1000;
  let told = '';
  for (;;) {
    const live = (await uploadsFor(client, b)).filter((u) => uploadState(u) !== 'FAILED');
    const through = live.find((u) => uploadState(u) === 'COMPLETE' || uploadState(u) === 'PROCESSING');
    if (through) {
      if (!o.wait || uploadState(through) === 'COMPLETE') return { kind: 'theirs', upload: through };
    } else {
      const verdict = await judgeAwaiting(client, live, o);
      if (verdict) return verdict;
    }
    const waitingFor = through ?? live.find((u) => uploadState(u) === 'AWAITING_UPLOAD');
    if (!waitingFor) return { kind: 'none' };
    if (told !== waitingFor.id) {
      o.note(
        `another client's upload of this build (${waitingFor.id}, ${uploadState(waitingFor)}) is in progress; waiting for it`,
      );
      told = waitingFor.id;
    }
    const left = o.deadline - o.clock.now();
    if (left <= 0) throw stillBusy(waitingFor);
    await o.sleep(Math.min(delay, left), o.signal);
    delay = Math.min(15_000, Math.round(delay * 1.5));
  }
}

/** Own uploads are continued, abandoned ones removed; undefined while a live one of someone else remains. */
async function judgeAwaiting(client: AscClient, uploads: BuildUpload[], o: OthersOptions): Promise<Others | undefined> {
  let someoneElse = false;
  for (const u of uploads) {
    const file = await reservedFile(client, u.id);
    const sameSize = !file || file.attributes?.fileSize === o.fileSize;
    if (o.ownSince !== undefined && createdAt(u) >= o.ownSince - 60_000 && sameSize) return { kind: 'own', upload: u };
    const age = o.clock.now() - createdAt(u);
    const expiries = (file?.attributes?.uploadOperations ?? []).map(
      (op) => Date.parse(op.expiration ?? '') || Infinity,
    );
    const expired = Math.min(Infinity, ...expiries) < o.clock.now() + EXPIRY_MARGIN_MS;
    if (expired || (!file && age > NO_FILE_ABANDONED_MS) || age > AWAITING_ABANDONED_MS) {
      o.note(`removing abandoned upload ${u.id} (created ${u.attributes?.createdDate ?? 'at an unknown time'})`);
      await dropUpload(client, u.id);
    } else someoneElse = true;
  }
  return someoneElse ? undefined : { kind: 'none' };
}

/**
 * Two clients that found nothing and created at the same moment both hold an upload of one build: the later
 * one (by creation time, then id) yields, so exactly one sends its bytes. Returns the upload `mine` yields to, if any.
 */
export async function outranked(client: AscClient, b: BuildRef, mine: BuildUpload): Promise<BuildUpload | undefined> {
  const rank = (u: BuildUpload) => [createdAt(u), u.id] as const;
  const [t, id] = rank(mine);
  return (await uploadsFor(client, b)).find((u) => {
    if (u.id === mine.id || uploadState(u) === 'FAILED') return false;
    const [ut, uid] = rank(u);
    return uploadState(u) !== 'AWAITING_UPLOAD' || ut < t || (ut === t && uid < id);
  });
}

function stillBusy(u: BuildUpload): AscendError {
  const created = createdAt(u);
  const abandonedAt = created ? new Date(created + AWAITING_ABANDONED_MS).toISOString() : 'three hours after creation';
  return new AscendError(
    'DEADLINE_EXCEEDED',
    `another client's upload of this build (${u.id}) is still ${uploadState(u)} at the deadline`,
    {
      remedy: `Run the same command again later: it uses that upload's build once it completes, or replaces it if it is still unfinished at ${abandonedAt}.`,
    },
  );
}
