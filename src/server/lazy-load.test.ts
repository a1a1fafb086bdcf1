import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN §2: server-only dependencies load lazily, so the CLI's start-up and memory stay as they are. The
 * database drivers are dynamic imports inside the store, and nothing outside src/server imports it statically.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

const all = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'simulator'))].map((f) => ({
  rel: relative(ROOT, f),
  text: readFileSync(f, 'utf8'),
}));

describe('server code loads lazily', () => {
  it('nothing outside src/server imports it statically', () => {
    const bad = all
      .filter((f) => !f.rel.startsWith('src/server/'))
      .filter((f) => /^\s*import\s[^;]*?from\s+'[./]+(?:[^']*\/)?server\//m.test(f.text))
      .map((f) => f.rel);
    expect(bad).toEqual([]);
  });

  it('kysely and the database drivers are used only in src/server, the drivers only by dynamic import', () => {
    const staticDriver = /^\s*import\s[^;]*?from\s+'(better-sqlite3|pg)'/m;
    const anyDb = /from\s+'(kysely|better-sqlite3|pg)'|import\('(better-sqlite3|pg)'\)/;
    expect(all.filter((f) => !f.rel.startsWith('src/server/') && anyDb.test(f.text)).map((f) => f.rel)).toEqual([]);
    expect(all.filter((f) => staticDriver.test(f.text)).map((f) => f.rel)).toEqual([]);
    // The check can see a dynamic import where there is one.
    expect(all.find((f) => f.rel === 'src/server/store/open.ts')?.text).toMatch(/import\('better-sqlite3'\)/);
  });
});
