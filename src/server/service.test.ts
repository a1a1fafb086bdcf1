import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createService } from './service.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ascend-svc-start-'));
  dirs.push(d);
  return d;
};

describe('server start-up errors', () => {
  it('a data folder that cannot be written is DATA_DIR_NOT_WRITABLE before anything is created', async () => {
    const d = temp();
    writeFileSync(join(d, 'file'), 'x');
    const err = await createService({
      dataDir: join(d, 'file', 'data'),
      apiUrl: 'http://127.0.0.1:9',
      workers: 0,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATA_DIR_NOT_WRITABLE', exitCode: 6 });
    expect((err as Error).message).toContain('ENOTDIR');
  });

  it('a port already taken is PORT_IN_USE, and the service still closes cleanly', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const svc = await createService({ dataDir: temp(), apiUrl: 'http://127.0.0.1:9', workers: 1, pollMs: 10 });
    try {
      const err = await svc.listen('127.0.0.1', port).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PORT_IN_USE', exitCode: 5 });
      expect((err as Error).message).toBe(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await svc.close({ timeoutMs: 1000 });
      await new Promise((r) => blocker.close(r));
    }
  });
});
