import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN §2: `cli, server -> release -> {signing, upload, ipa, asc} -> core`; `asc -> credentials` only
 * through the TokenProvider interface; `simulator -> core, asc/schema`, never the client's http or
 * resources, so the client and the simulator cannot share a misunderstanding.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const ALLOWED: Record<string, string[]> = {
  'src/core': [],
  'src/config': ['src/core'],
  'src/credentials': ['src/core'],
  'src/asc/schema': [],
  'src/asc/http': ['src/core', 'src/credentials/types.ts', 'src/asc/schema'],
  'src/asc/resources': ['src/core', 'src/asc/http', 'src/asc/schema'],
  'src/ipa': ['src/core'],
  // Makes sample and test .ipa files; the inspector room only reads.
  'src/sample': ['src/core'],
  'src/upload': ['src/core', 'src/asc/schema'],
  'src/signing': ['src/core', 'src/asc', 'src/credentials'],
  'src/release': ['src/core', 'src/asc', 'src/ipa', 'src/upload', 'src/signing', 'src/credentials/types.ts'],
  // Reads what expires (key, agreements, signing, builds) and judges it; like release, below the CLI.
  'src/doctor': ['src/core', 'src/asc', 'src/signing', 'src/credentials/types.ts'],
  'src/server': [
    'src/core',
    'src/config',
    'src/credentials',
    'src/asc',
    'src/ipa',
    'src/upload',
    'src/release',
    'src/signing',
  ],
  'src/cli': [
    'src/core',
    'src/config',
    'src/credentials',
    'src/asc',
    'src/ipa',
    'src/upload',
    'src/release',
    'src/signing',
    'src/sample',
    'src/doctor',
    'simulator',
  ],
  simulator: ['src/core', 'src/asc/schema'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return files(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

function moduleOf(rel: string): string | undefined {
  return Object.keys(ALLOWED)
    .filter((m) => rel === m || rel.startsWith(`${m}/`))
    .sort((a, b) => b.length - a.length)[0];
}

describe('import rules (DESIGN §2)', () => {
  const all = [...files(join(ROOT, 'src')), ...files(join(ROOT, 'simulator'))];

  it('every source file belongs to a known module', () => {
    const unknown = all.map((f) => relative(ROOT, f)).filter((f) => !moduleOf(f));
    expect(unknown).toEqual([]);
  });

  it('no file imports across a forbidden edge', () => {
    const violations: string[] = [];
    for (const file of all) {
      const from = relative(ROOT, file);
      const mod = moduleOf(from)!;
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = relative(ROOT, resolve(dirname(file), m[1]!)).replace(/\.js$/, '.ts');
        const targetMod = moduleOf(target);
        if (!targetMod || targetMod === mod) continue;
        const ok = ALLOWED[mod]!.some((a) => target === a || target.startsWith(`${a}/`));
        if (!ok) violations.push(`${from} -> ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the simulator never touches the client’s HTTP or resource code', () => {
    const bad = files(join(ROOT, 'simulator')).filter((f) => /asc\/(http|resources)/.test(readFileSync(f, 'utf8')));
    expect(bad.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
