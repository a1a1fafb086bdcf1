import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN §2: `cli, server -> release -> {signing, upload, ipa, asc} -> core`; `asc -> credentials` only
 * through the TokenProvider interface; `simulator -> core, asc/schema`, never the client's http or
 * resources, so the client and the simulator cannot share a misunderstanding (it may read binaries with
 * `src/ipa/inspect.ts`, docs/DECISIONS.md).
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
    // The monitor runs `ascend doctor`'s gather and checks for each stored key (src/server/monitor).
    'src/doctor',
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
    // `ascend server start` runs the server in the CLI's process.
    'src/server',
  ],
  // The simulator reads uploaded binaries with the read-only inspector, as Apple reads them: that is not the
  // client's API code, so client and simulator still cannot share a misunderstanding of Apple's API.
  simulator: ['src/core', 'src/asc/schema', 'src/ipa/inspect.ts'],
};

function files(dir: string, exts: string[] = ['.ts']): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return files(p, exts);
    return exts.some((e) => p.endsWith(e)) && !p.endsWith('.test.ts') ? [p] : [];
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

  it('the dashboard (web/) imports from the server only its API types, and no other project code', () => {
    const web = files(join(ROOT, 'web'), ['.ts', '.tsx']).filter((f) => !f.includes('node_modules'));
    expect(web.length).toBeGreaterThan(5);
    const violations: string[] = [];
    for (const file of web) {
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\()\s*'([^']+)'/g)) {
        const spec = m[1]!;
        if (!spec.startsWith('.')) {
          // Packages: React for the page, Vite only in its own config.
          const allowed = ['react', 'react-dom/client', 'react/jsx-runtime'];
          const inConfig = ['vite', '@vitejs/plugin-react', 'node:url'];
          if (!allowed.includes(spec) && !(file.endsWith('vite.config.ts') && inConfig.includes(spec)))
            violations.push(`${relative(ROOT, file)} -> ${spec}`);
          continue;
        }
        const target = relative(ROOT, resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
        if (target.startsWith('web/') || target === 'src/server/api/types.ts') continue;
        violations.push(`${relative(ROOT, file)} -> ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the simulator never touches the client’s HTTP or resource code', () => {
    const bad = files(join(ROOT, 'simulator')).filter((f) => /asc\/(http|resources)/.test(readFileSync(f, 'utf8')));
    expect(bad.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('the circle check finds a circle through a type-only import, and none through a lazy import()', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ascend-circles-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js';\nexport type A = B;\n");
      writeFileSync(join(dir, 'b.ts'), "import { c } from './c.js';\nexport type B = string;\nexport const b = c;\n");
      writeFileSync(join(dir, 'c.ts'), "export { a } from './a.js';\nexport const c = () => import('./b.js');\n");
      writeFileSync(join(dir, 'd.ts'), "export const d = () => import('./d.js');\n");
      const found = importCircles(['a', 'b', 'c', 'd'].map((n) => join(dir, `${n}.ts`)));
      expect(found.map((c) => c.split(' <-> ').map((f) => f.split('/').pop()))).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no import circle anywhere in src/ or simulator/ (type-only imports count; lazy import() does not)', () => {
    expect(importCircles(all)).toEqual([]);
  });
});

/** Static imports (`import … from`, `export … from`) between source files, by path relative to ROOT. */
function importGraph(all: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of all) {
    const from = relative(ROOT, file);
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g)].map((m) =>
      relative(ROOT, resolve(dirname(file), m[1]!)).replace(/\.js$/, '.ts'),
    );
    graph.set(from, targets);
  }
  return graph;
}

/** Each circle (a strongly connected group of two or more files, or a file importing itself), as sorted names. */
function importCircles(all: string[]): string[] {
  const graph = importGraph(all);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      group.push(w);
      if (w === v) break;
    }
    if (group.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(group.sort().join(' <-> '));
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return circles;
}
