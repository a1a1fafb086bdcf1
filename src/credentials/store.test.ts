import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ISSUER_ID, KEY_ID, p256 } from '../../test/helpers/keys.js';
import { validatePrivateKey } from './key.js';
import { KeyStore } from './store.js';
import type { ApiKey } from './types.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ascend-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const apiKey = (): ApiKey => ({
  keyId: KEY_ID,
  issuerId: ISSUER_ID,
  privateKeyPem: validatePrivateKey(p256().pkcs8).pem,
  inHouse: false,
  sources: { keyId: 'x', issuerId: 'x', privateKey: 'x' },
});
const posix = process.platform !== 'win32';

describe('KeyStore', () => {
  it('makes a missing home owner-only', async () => {
    const home = join(dir, 'new-home');
    await new KeyStore(home).add('ci', apiKey());
    if (posix) expect(statSync(home).mode & 0o777).toBe(0o700);
    expect((await new KeyStore(home).list()).map((k) => k.name)).toEqual(['ci']);
  });

  it.runIf(posix)('refuses an existing home others can read, and leaves its mode alone', async () => {
    const home = join(dir, 'shared');
    mkdirSync(home);
    chmodSync(home, 0o755);
    await expect(new KeyStore(home).add('ci', apiKey())).rejects.toMatchObject({
      code: 'HOME_PERMISSIONS',
      remedy: expect.stringContaining(`chmod 700 ${home}`),
    });
    expect(statSync(home).mode & 0o777).toBe(0o755);
  });

  it('lists the good keys when one file under keys/ is damaged, and names the bad one', async () => {
    const home = join(dir, 'home');
    const store = new KeyStore(home);
    await store.add('good', apiKey());
    await store.add('other', apiKey());
    writeFileSync(join(home, 'keys', 'broken.json'), '{"name": "broken", ', { mode: 0o600 });
    writeFileSync(join(home, 'keys', 'half.json'), '{"name": "half"}', { mode: 0o600 });
    const { keys, unreadable } = await store.listAll();
    expect(keys.map((k) => k.name)).toEqual(['good', 'other']);
    expect(unreadable).toEqual([
      expect.objectContaining({ file: join(home, 'keys', 'broken.json'), code: 'KEY_JSON_INVALID' }),
      expect.objectContaining({ file: join(home, 'keys', 'half.json'), code: 'KEY_JSON_INVALID' }),
    ]);
    expect((await store.list()).map((k) => k.name)).toEqual(['good', 'other']);
    // The good keys still load.
    expect((await store.get('good')).keyId).toBe(KEY_ID);
  });
});
