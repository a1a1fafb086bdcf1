import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AscendError, CATALOGUE } from '../core/errors.js';
import { renderErrorsDoc } from './errors-doc.js';

describe('error catalogue', () => {
  it('docs/ERRORS.md lists exactly the catalogue (regenerate with `npm run gen:errors`)', () => {
    const doc = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderErrorsDoc());
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d+) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(documented).toEqual(Object.entries(CATALOGUE).map(([c, e]) => [c, e.exit]));
  });

  it('every entry has a remedy that names a fix, and errors carry their exit code', () => {
    for (const [code, e] of Object.entries(CATALOGUE)) expect(e.remedy.length, code).toBeGreaterThan(20);
    const err = new AscendError('KEY_WRONG_CURVE', 'uses secp384r1');
    expect(err.exitCode).toBe(6);
    expect(err.remedy).toMatch(/P-256/);
  });
});
