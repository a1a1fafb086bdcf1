import { describe, expect, it } from 'vitest';
import { inUse } from './builds-next-number.js';

const of = (builds: number, uploads: number) => [
  ...Array.from({ length: builds }, () => ({ source: 'build' as const })),
  ...Array.from({ length: uploads }, () => ({ source: 'buildUpload' as const })),
];

describe('builds next-number: what was counted', () => {
  it('says "5 builds and 3 uploads in flight" for 5 builds and 3 uploads, not "8 builds and uploads"', () => {
    expect(inUse(of(5, 3))).toBe('5 builds and 3 uploads in flight');
    expect(inUse(of(1, 0))).toBe('1 build');
    expect(inUse(of(0, 1))).toBe('1 upload in flight');
    expect(inUse(of(2, 1))).toBe('2 builds and 1 upload in flight');
  });
});
