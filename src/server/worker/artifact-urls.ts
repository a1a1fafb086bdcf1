import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { AscendError } from '../../core/errors.js';
import type { Keyring } from '../vault/envelope.js';

/** How long a signed artifact URL works: long enough for a retried part, short enough to be worthless later. */
export const ARTIFACT_URL_TTL_MS = 10 * 60_000;

/**
 * Keys for signed artifact URLs, derived from the master key (HKDF, its own label), so every server process
 * that holds the master key signs and checks alike and nothing new is stored. The previous master key's
 * still verifies during a rotation.
 */
export function artifactUrlKeys(keyring: Keyring): Buffer[] {
  return [keyring.current, ...(keyring.previous ?? [])].map((k) =>
    Buffer.from(hkdfSync('sha256', k.key, Buffer.alloc(0), 'ascend signed artifact urls v1', 32)),
  );
}

function mac(key: Buffer, teamId: string, artifactId: string, expiresS: number): Buffer {
  return createHmac('sha256', key).update(`${teamId}\n${artifactId}\n${expiresS}`).digest();
}

/** The path and query a worker reads the artifact at (resolved against its --server URL). */
export function signArtifactPath(keys: Buffer[], teamId: string, artifactId: string, expiresMs: number): string {
  const expiresS = Math.floor(expiresMs / 1000);
  const sig = mac(keys[0]!, teamId, artifactId, expiresS).toString('base64url');
  const q = new URLSearchParams({ team: teamId, expires: String(expiresS), sig });
  return `/api/v1/worker/artifacts/${encodeURIComponent(artifactId)}?${q}`;
}

/** Checks a signed URL's query: a wrong signature and a passed expiry are both ARTIFACT_URL_INVALID. */
export function verifyArtifactQuery(
  keys: Buffer[],
  artifactId: string,
  q: { team?: unknown; expires?: unknown; sig?: unknown },
  nowMs: number,
): { teamId: string } {
  const invalid = (why: string) => new AscendError('ARTIFACT_URL_INVALID', `the signed artifact URL ${why}`);
  const { team, expires, sig } = q;
  if (typeof team !== 'string' || typeof expires !== 'string' || typeof sig !== 'string' || sig.length > 100)
    throw invalid('lacks its team, expiry or signature');
  const expiresS = Number(expires);
  if (!/^\d{1,12}$/.test(expires)) throw invalid('has a malformed expiry');
  const given = Buffer.from(sig, 'base64url');
  const ok = keys.some((k) => {
    const want = mac(k, team, artifactId, expiresS);
    return given.length === want.length && timingSafeEqual(given, want);
  });
  if (!ok) throw invalid('has a wrong signature');
  if (expiresS * 1000 <= nowMs) throw invalid('has expired');
  return { teamId: team };
}

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range inside `size`; anything else is RANGE_NOT_SATISFIABLE. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = header.length <= 100 ? /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim()) : null;
  const bad = () =>
    new AscendError('RANGE_NOT_SATISFIABLE', `the range ${header.slice(0, 100)} is not one range inside ${size} bytes`);
  if (!m || (m[1] === '' && m[2] === '')) throw bad();
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) throw bad();
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) throw bad();
  return { start, end };
}
