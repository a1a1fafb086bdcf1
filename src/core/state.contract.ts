import { describe, expect, it } from 'vitest';
import type { StateStore } from './state.js';

export interface StateStoreHarness {
  /** A fresh, empty store. */
  create(): Promise<StateStore> | StateStore;
  /** Overwrites the stored form of `key` with bytes that are not JSON, as a crash or a bad disk would. */
  damage(store: StateStore, key: string): Promise<void>;
}

/**
 * One behaviour every StateStore keeps (DESIGN §2: a JSON file for the CLI, a database table for the server),
 * registered once per implementation.
 */
export function defineStateStoreContract(name: string, harness: StateStoreHarness): void {
  describe(`StateStore contract: ${name}`, () => {
    it('a missing key reads as undefined', async () => {
      const s = await harness.create();
      expect(await s.get('nothing-here')).toBeUndefined();
    });

    it('round-trips JSON values and overwrites', async () => {
      const s = await harness.create();
      const value = { step: 'upload', parts: [1, 2, 3], nested: { ok: true, n: null }, text: 'é ✓ \u0000' };
      await s.put('k', value);
      expect(await s.get('k')).toEqual(value);
      await s.put('k', { step: 'wait' });
      expect(await s.get('k')).toEqual({ step: 'wait' });
    });

    it('deletes, and deleting a missing key is fine', async () => {
      const s = await harness.create();
      await s.put('gone', 1);
      await s.delete('gone');
      expect(await s.get('gone')).toBeUndefined();
      await s.delete('never-there');
    });

    it('keeps keys with odd characters apart', async () => {
      const s = await harness.create();
      const keys = ['a/b', 'a\\b', '../../etc/passwd', 'ключ', 'with space', 'quote\'"', 'a:b', 'a_b'];
      for (const [i, k] of keys.entries()) await s.put(k, { i });
      for (const [i, k] of keys.entries()) expect(await s.get(k)).toEqual({ i });
    });

    it('stores large values whole', async () => {
      const s = await harness.create();
      const big = { blob: 'x'.repeat(2 * 1024 * 1024), list: Array.from({ length: 10_000 }, (_, i) => i) };
      await s.put('big', big);
      const back = await s.get<typeof big>('big');
      expect(back?.blob.length).toBe(big.blob.length);
      expect(back?.list.at(-1)).toBe(9999);
    });

    it('concurrent puts to one key end with one of them intact', async () => {
      const s = await harness.create();
      const values = Array.from({ length: 20 }, (_, i) => ({ writer: i, pad: String(i).repeat(5000) }));
      await Promise.all(values.map((v) => s.put('race', v)));
      const back = await s.get<(typeof values)[number]>('race');
      expect(values).toContainEqual(back);
    });

    it('a damaged stored value is reported as STATE_FILE_INVALID', async () => {
      const s = await harness.create();
      await s.put('broken', { fine: true });
      await harness.damage(s, 'broken');
      await expect(s.get('broken')).rejects.toMatchObject({ code: 'STATE_FILE_INVALID' });
    });
  });
}
