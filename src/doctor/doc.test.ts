import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FINDINGS } from './types.js';

describe('docs/DOCTOR.md', () => {
  it('lists every finding code with its severity and meaning, and no code that does not exist', () => {
    const doc = readFileSync(new URL('../../docs/DOCTOR.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (error|warning) \| (.+) \|$/gm)].map((m) => [m[1], m[2], m[3]]);
    expect(rows).toEqual(Object.entries(FINDINGS).map(([code, f]) => [code, f.severity, f.about]));
  });
});
