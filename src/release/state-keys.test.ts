import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonFileStateStore } from '../core/state.js';
import { stateKey, uploadStateKey } from './state-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'ascend-state-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('stateKey', () => {
  it('keeps short safe components as they are (readable state file names)', () => {
    expect(uploadStateKey({ appId: '1000000001', platform: 'IOS', version: '1.2.0', buildNumber: '7' })).toBe(
      'upload-1000000001-IOS-1.2.0-7',
    );
  });

  it('hashes a 10,000-digit version: the key stays short, and a file store can hold it (was ENAMETOOLONG)', async () => {
    const huge = '9'.repeat(10_000);
    const key = uploadStateKey({ appId: '1000000001', platform: 'IOS', version: huge, buildNumber: '1' });
    expect(key).toMatch(/^upload-1000000001-IOS-h[0-9a-f]{16}-1$/);
    expect(key).not.toBe(
      uploadStateKey({ appId: '1000000001', platform: 'IOS', version: `${huge}8`, buildNumber: '1' }),
    );
    const store = new JsonFileStateStore(dir);
    await store.put(key, { uploadId: 'u1' });
    expect(await store.get(key)).toEqual({ uploadId: 'u1' });
    expect(readdirSync(dir).every((f) => f.length < 100)).toBe(true);
  });

  it('hashes components with path separators, control characters or other unsafe text', () => {
    for (const bad of ['/tmp/a b/app.ipa', '../../etc/passwd', 'a\u0000b', 'ver\nsion', 'x'.repeat(41)]) {
      expect(stateKey('run', bad)).toMatch(/^run-h[0-9a-f]{16}$/);
    }
    expect(stateKey('run', '/a/app.ipa')).not.toBe(stateKey('run', '/b/app.ipa'));
  });
});
