import { createHash } from 'node:crypto';

/** Components a state key keeps as they are; anything else is hashed. */
const SAFE = /^[A-Za-z0-9._]{1,40}$/;

/**
 * The one way to name saved state (DESIGN §2): `kind` plus its components, joined by `-`. A component
 * that is long or holds anything but letters, digits, dot and underscore (a file path, a 10,000-digit
 * version from a hostile Info.plist) is replaced by `h` + the first 16 hex digits of its SHA-256, so a
 * key is always short and safe as a file name (a long one failed with ENAMETOOLONG after the upload had
 * been created) and never shows remote- or file-controlled text verbatim.
 */
export function stateKey(kind: 'run' | 'upload' | 'lock', ...parts: string[]): string {
  return [
    kind,
    ...parts.map((p) => (SAFE.test(p) ? p : `h${createHash('sha256').update(p).digest('hex').slice(0, 16)}`)),
  ].join('-');
}

/** The private state of one build's upload (upload-build.ts keeps its resumable progress under it). */
export function uploadStateKey(i: { appId: string; platform: string; version: string; buildNumber: string }): string {
  return stateKey('upload', i.appId, i.platform, i.version, i.buildNumber);
}
