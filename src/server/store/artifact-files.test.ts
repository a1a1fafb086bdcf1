import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactFiles } from './artifact-files.js';

let dir: string;
let files: ArtifactFiles;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ascend-artifacts-'));
  files = new ArtifactFiles(dir, (n) => randomBytes(n));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A body in many small chunks, as a network upload arrives. */
function body(bytes: Buffer, chunk = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    })(),
  );
}

describe('artifact files', () => {
  it('stores by SHA-256 (owner-only), once per content, and reads byte ranges', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const sha = createHash('sha256').update(data).digest('hex');
    expect(await files.put(body(data), 10 * 1024 * 1024)).toEqual({ sha256: sha, size: data.length });
    expect(statSync(files.pathOf(sha)).mode & 0o777).toBe(0o600);
    expect(await files.put(body(data), 10 * 1024 * 1024)).toEqual({ sha256: sha, size: data.length });
    expect(readdirSync(join(dir, sha.slice(0, 2)))).toEqual([sha]);
    const part = Buffer.from(await (await files.openRange(sha, 1000, 1999)).toArray().then((c) => Buffer.concat(c)));
    expect(part).toEqual(data.subarray(1000, 2000));
    expect(await files.size(sha)).toBe(data.length);
  });

  it('refuses an upload over the limit and leaves no file behind', async () => {
    const data = randomBytes(200 * 1024);
    await expect(files.put(body(data, 1000), 100 * 1024)).rejects.toMatchObject({ code: 'ARTIFACT_TOO_LARGE' });
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    expect(readdirSync(dir)).toEqual(['tmp']);
  });

  it('a digest that is not 64 hex digits never becomes a path; ranges are checked', async () => {
    expect(() => files.pathOf('../../etc/passwd')).toThrow(expect.objectContaining({ code: 'RESOURCE_NOT_FOUND' }));
    await expect(files.openRange('a'.repeat(64), 0, 1)).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    const { sha256 } = await files.put(body(Buffer.from('hello')), 100);
    await expect(files.openRange(sha256, 0, 5)).rejects.toMatchObject({ code: 'USAGE' });
    expect(await text(await files.openRange(sha256, 1, 3))).toBe('ell');
  });
});
