import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AscendError } from '../../core/errors.js';

/** Folders walked at most, so a build that writes millions of files cannot stall the worker. */
const MAX_ENTRIES = 200_000;

/**
 * Checks an artifact glob: relative, `/`-separated, no `.` or `..` part, no backslash; `*` and `?` match
 * within one part and a `**` part matches any number of folders. USAGE otherwise.
 */
export function checkArtifactGlob(glob: string): string[] {
  const parts = glob.split('/');
  const bad =
    glob.length === 0 ||
    glob.length > 256 ||
    glob.startsWith('/') ||
    glob.includes('\\') ||
    glob.includes('\0') ||
    parts.some((p) => p === '' || p === '.' || p === '..' || (p.includes('**') && p !== '**'));
  if (bad)
    throw new AscendError('USAGE', `the artifact glob ${JSON.stringify(glob.slice(0, 80))} is not allowed`, {
      remedy: 'Give a relative path inside the build folder, e.g. "build/*.ipa" or "**/App.ipa" (no "..").',
    });
  return parts;
}

function partRegex(part: string): RegExp {
  const body = part
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** Whether `path` (its parts) matches the glob's parts. */
function matches(glob: readonly string[], path: readonly string[]): boolean {
  if (glob.length === 0) return path.length === 0;
  const [head, ...rest] = glob as [string, ...string[]];
  if (head === '**') {
    for (let i = 0; i <= path.length; i++) if (matches(rest, path.slice(i))) return true;
    return false;
  }
  return path.length > 0 && partRegex(head).test(path[0]!) && matches(rest, path.slice(1));
}

/**
 * The one regular file under `root` that the glob matches. Symbolic links are not followed (a build could
 * point one at a file outside its folder). Zero or several matches are errors naming what was found.
 */
export async function findArtifact(root: string, glob: string): Promise<string> {
  const parts = checkArtifactGlob(glob);
  const found: string[] = [];
  const queue: string[][] = [[]];
  let seen = 0;
  while (queue.length > 0) {
    const rel = queue.shift()!;
    let entries: Dirent[];
    try {
      entries = await readdir(join(root, ...rel), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (++seen > MAX_ENTRIES) break;
      const path = [...rel, e.name];
      if (e.isDirectory()) queue.push(path);
      else if (e.isFile() && matches(parts, path)) found.push(path.join('/'));
    }
  }
  if (found.length === 0)
    throw new AscendError('BUILD_ARTIFACT_NOT_FOUND', `the build made no file matching ${JSON.stringify(glob)}`);
  if (found.length > 1)
    throw new AscendError(
      'BUILD_ARTIFACT_AMBIGUOUS',
      `${found.length} files match ${JSON.stringify(glob)}: ${found.sort().slice(0, 5).join(', ')}`,
    );
  return join(root, found[0]!);
}
