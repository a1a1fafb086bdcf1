import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, expect, it } from 'vitest';
import { BuildLogFiles } from './build-log-files.js';

const dir = mkdtempSync(join(tmpdir(), 'ascend-build-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('appends lines up to the size limit, says so once, and serves what is there (0600)', async () => {
  const files = new BuildLogFiles(dir, 30);
  const w = await files.writer('dep_abc123');
  await w.append(['one', 'two']);
  await w.append(['three']);
  await w.append(['this batch does not fit any more']);
  await w.append(['nor this']);
  await w.close();
  const path = join(dir, 'dep_abc123.log');
  expect(readFileSync(path, 'utf8')).toBe('one\ntwo\nthree\n… the log was cut at 30 bytes …\n');
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const served = await files.open('dep_abc123');
  expect(await text(served!.stream)).toBe(readFileSync(path, 'utf8'));
  expect(await files.open('dep_none')).toBeUndefined();
  await expect(files.open('../etc/passwd')).rejects.toThrow(/not valid/);
});
