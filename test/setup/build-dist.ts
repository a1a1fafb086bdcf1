import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Vitest global setup: end-to-end tests run `bin/ascend`, which loads `dist/`. When any source the build
 * reads is newer than the oldest built file (or dist is missing), the build runs first, so `npx vitest run`
 * alone can never test a stale build. An up-to-date dist costs one directory walk.
 */

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const SOURCES = ['src', 'simulator'];
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

function walk(dir: string, keep: (name: string) => boolean, visit: (path: string) => void): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, keep, visit);
    else if (keep(e.name)) visit(p);
  }
}

/** Why dist must be rebuilt, or undefined when it is current. */
export function staleReason(root: string): string | undefined {
  let newestSource = 0;
  let newestName = '';
  const consider = (p: string) => {
    const t = statSync(p).mtimeMs;
    if (t > newestSource) [newestSource, newestName] = [t, p];
  };
  for (const d of SOURCES) walk(join(root, d), (n) => n.endsWith('.ts') && !n.endsWith('.test.ts'), consider);
  for (const c of CONFIGS) if (existsSync(join(root, c))) consider(join(root, c));
  let oldestBuilt = Number.POSITIVE_INFINITY;
  let built = 0;
  for (const d of SOURCES)
    walk(
      join(root, 'dist', d),
      (n) => n.endsWith('.js'),
      (p) => {
        built++;
        oldestBuilt = Math.min(oldestBuilt, statSync(p).mtimeMs);
      },
    );
  if (built === 0) return 'dist/ is missing';
  if (newestSource > oldestBuilt) return `${newestName.slice(root.length + 1)} is newer than the build`;
  return undefined;
}

export default function setup(): void {
  const why = staleReason(ROOT);
  if (!why) return;
  const started = performance.now();
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  const took = ((performance.now() - started) / 1000).toFixed(1);
  // tsc emits even with type errors, so dist is current either way; the errors are shown, and left to
  // `npx tsc --noEmit` to fail on, so a unit-test run is not blocked by an unrelated type error.
  if (r.status !== 0) {
    if (staleReason(ROOT)) throw new Error(`building dist/ failed (${why}):\n${r.stdout}${r.stderr}`);
    process.stderr.write(`note: dist/ rebuilt in ${took} s with type errors:\n${r.stdout}${r.stderr}\n`);
    return;
  }
  process.stderr.write(`note: dist/ rebuilt in ${took} s (${why})\n`);
}
