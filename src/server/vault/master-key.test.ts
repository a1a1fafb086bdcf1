import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadKeyring, loadMasterKey, parseMasterKey } from './master-key.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ascend-mk-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const B64 = Buffer.alloc(32, 7).toString('base64');

describe('master key', () => {
  it('ASCEND_MASTER_KEY wins and creates no file', async () => {
    const k = await loadMasterKey({ envValue: B64, dataDir: dir, create: true });
    expect(k.key).toEqual(Buffer.alloc(32, 7));
    expect(() => statSync(join(dir, 'master.key'))).toThrow();
  });

  it('a malformed ASCEND_MASTER_KEY is refused without echoing it', async () => {
    const bad = Buffer.alloc(16, 9).toString('base64');
    const err = await loadMasterKey({ envValue: bad, dataDir: dir, create: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MASTER_KEY_INVALID' });
    expect((err as Error).message).not.toContain(bad);
  });

  it('first start generates <data>/master.key with mode 0600; the next start reads the same key', async () => {
    const a = await loadMasterKey({ dataDir: dir, create: true });
    const path = join(dir, 'master.key');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').trim()).toBe(a.key.toString('base64'));
    const b = await loadMasterKey({ dataDir: dir, create: false });
    expect(b.id).toBe(a.id);
  });

  it('two starts creating the key at once end with one key', async () => {
    const [a, b] = await Promise.all([
      loadMasterKey({ dataDir: dir, create: true }),
      loadMasterKey({ dataDir: dir, create: true }),
    ]);
    expect(a.id).toBe(b.id);
  });

  it('refuses a group- or other-readable file, naming the chmod fix', async () => {
    writeFileSync(join(dir, 'master.key'), `${B64}\n`, { mode: 0o600 });
    chmodSync(join(dir, 'master.key'), 0o640);
    const err = await loadMasterKey({ dataDir: dir, create: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MASTER_KEY_PERMISSIONS' });
    expect((err as { remedy: string }).remedy).toContain(`chmod 600 ${join(dir, 'master.key')}`);
  });

  it('a worker (create: false) never generates a key', async () => {
    await expect(loadMasterKey({ dataDir: dir, create: false })).rejects.toMatchObject({ code: 'MASTER_KEY_INVALID' });
    expect(() => statSync(join(dir, 'master.key'))).toThrow();
  });

  it('the keyring holds the previous key during a rotation', async () => {
    const prev = Buffer.alloc(32, 3).toString('base64');
    const ring = await loadKeyring({ envValue: B64, previousEnvValue: prev, dataDir: dir, create: false });
    expect(ring.previous.map((k) => k.id)).toEqual([parseMasterKey(prev, 'x').id]);
    expect(ring.current.id).not.toBe(ring.previous[0]!.id);
  });
});
