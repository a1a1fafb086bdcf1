import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { defineStateStoreContract } from './state.contract.js';
import { fileNameOf, JsonFileStateStore, MemoryStateStore } from './state.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

defineStateStoreContract('JSON files', {
  create: () => {
    const dir = mkdtempSync(join(tmpdir(), 'ascend-state-'));
    dirs.push(dir);
    return new JsonFileStateStore(dir);
  },
  damage: async (store) => {
    const dir = (store as JsonFileStateStore).dir;
    const [file] = readdirSync(dir);
    writeFileSync(join(dir, file!), '{"half": ');
  },
});

defineStateStoreContract('memory', {
  create: () => new MemoryStateStore(),
  damage: async (store, key) => {
    (store as MemoryStateStore).data.set(key, '{"half": ');
  },
});

it('file names keep plain keys as they were and map every other key to its own name', () => {
  expect(fileNameOf('upload-123-IOS-1.0-42')).toBe('upload-123-IOS-1.0-42');
  expect(fileNameOf('a/b')).toBe('a_2fb');
  expect(fileNameOf('a_b')).toBe('a_5fb');
  expect(fileNameOf('../x')).not.toContain('/');
  expect(fileNameOf('k'.repeat(300))).toMatch(/^~[0-9a-f]{64}$/);
});
