import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonFileStateStore } from './state.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('JSON file state store', () => {
  it('round-trips a value in an owner-only file named after the key, and deletes it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'state-'));
    const store = new JsonFileStateStore(join(dir, 'state'));
    expect(await store.get('deploy/1')).toBeUndefined();
    await store.put('deploy/1', { step: 'upload', parts: [1, 2] });
    expect(await store.get('deploy/1')).toEqual({ step: 'upload', parts: [1, 2] });
    expect(readdirSync(join(dir, 'state'))).toEqual(['deploy_2f1.json']);
    expect(statSync(join(dir, 'state', 'deploy_2f1.json')).mode & 0o777).toBe(0o600);
    await store.delete('deploy/1');
    expect(await store.get('deploy/1')).toBeUndefined();
  });

  it('a damaged file is STATE_FILE_INVALID (exit 6), naming the file to delete', async () => {
    dir = mkdtempSync(join(tmpdir(), 'state-'));
    const store = new JsonFileStateStore(dir);
    writeFileSync(join(dir, 'k.json'), '{"step": "upl');
    const e = await store.get('k').catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'STATE_FILE_INVALID', exitCode: 6, message: `${join(dir, 'k.json')} is damaged` });
    expect((e as { remedy: string }).remedy).toBe(`Delete ${join(dir, 'k.json')}, then run the command again.`);
  });

  it('an unreadable state is STATE_FILE_INVALID, never taken for no state at all', async () => {
    dir = mkdtempSync(join(tmpdir(), 'state-'));
    const store = new JsonFileStateStore(dir);
    // A folder where the file should be: readable by nobody as a file (root reads any file, so not chmod).
    mkdirSync(join(dir, 'k.json'));
    await expect(store.get('k')).rejects.toMatchObject({
      code: 'STATE_FILE_INVALID',
      message: `${join(dir, 'k.json')} is a folder`,
    });
  });
});
