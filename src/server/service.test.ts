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

describe('server stop', () => {
  it('closes while a client follows a deploy’s events: the stream ends, nothing keeps the server open', async () => {
    const { ensureFirstAdmin } = await import('./accounts/bootstrap.js');
    const { createDeploy } = await import('./store/deploys.js');
    const svc = await createService({ dataDir: temp(), apiUrl: 'http://127.0.0.1:9', workers: 0, pollMs: 10 });
    const { store, deps } = svc.storage;
    const first = await ensureFirstAdmin(store, deps, { apiToken: true });
    const d = await createDeploy(store, deps, first.team.id, { options: {} });
    const url = await svc.listen('127.0.0.1', 0);
    const res = await fetch(`${url}/api/v1/deploys/${d.id}/events`, {
      headers: { authorization: `Bearer ${first.apiToken}` },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const body = res.text();
    await svc.close({ timeoutMs: 1000 });
    expect(await body).toBe('');
  });
});
