import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  engines: { node: string };
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'node_modules' ? [] : sources(p);
    return /\.(ts|mjs|js)$/.test(f) && !f.endsWith('.test.ts') ? [p] : [];
  });
}

describe('dependencies', () => {
  it('every runtime dependency is imported by code that ships (src/, simulator/, bin/)', () => {
    const code = ['src', 'simulator', 'bin']
      .flatMap((d) => sources(join(ROOT, d)))
      .map((p) => readFileSync(p, 'utf8'))
      .join('\n');
    // commander is not imported by name: it is the peer dependency that @commander-js/extra-typings wraps.
    const extra = JSON.parse(
      readFileSync(join(ROOT, 'node_modules/@commander-js/extra-typings/package.json'), 'utf8'),
    ) as { peerDependencies: Record<string, string> };
    expect(Object.keys(extra.peerDependencies)).toContain('commander');
    const unused = Object.keys(pkg.dependencies).filter(
      (name) =>
        name !== 'commander' &&
        !code.includes(`from '${name}'`) &&
        !code.includes(`from '${name}/`) &&
        !code.includes(`import('${name}`),
    );
    expect(unused).toEqual([]);
  });

  it('no installed package asks for a newer Node than the one the README promises (20.19+)', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { engines?: { node?: string }; dev?: boolean }>;
    };
    const tooNew = Object.entries(lock.packages)
      .filter(([, p]) => /^>=\s*(2[2-9]|[3-9]\d)/.test(p.engines?.node ?? ''))
      .map(([name, p]) => `${name} ${p.engines?.node}`);
    expect(tooNew).toEqual([]);
  });

  it("fastify's inject (light-my-request) sends cookies with the cookie version pinned by the override", async () => {
    const app = Fastify();
    app.get('/', async (req) => ({ cookie: req.headers.cookie ?? null }));
    try {
      const r = await app.inject({ method: 'GET', url: '/', cookies: { session: 'abc', note: 'a b' } });
      expect(r.json()).toEqual({ cookie: 'session=abc; note=a%20b' });
    } finally {
      await app.close();
    }
  });
});
