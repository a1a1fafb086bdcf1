import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { JobCredentials, WorkerApiClient } from './worker-api.js';

/** A server that answers credentials for job j1 only, each time with a new token and URL; anything else fails. */
function fakeServer(clock: FakeClock) {
  const calls: { url: string; auth: string; body: unknown }[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    calls.push({
      url,
      auth: new Headers(init?.headers).get('authorization') ?? '',
      body: JSON.parse(String(init?.body)),
    });
    if (!url.endsWith('/api/v1/worker/jobs/j1/credentials'))
      return new Response(JSON.stringify({ error: { code: 'JOB_NOT_LEASED', message: 'not yours' } }), {
        status: 409,
      });
    const n = calls.length;
    const expiresAt = new Date(clock.now() + 10 * 60_000).toISOString();
    return Response.json({
      appStoreConnect: { token: `jwt-${n}`, expiresAt, keyId: 'ABCDE12345' },
      artifact: { url: `/api/v1/worker/artifacts/a?sig=${n}`, size: 10, sha256: 'x', filename: 'A.ipa', expiresAt },
    });
  }) as typeof fetch;
  return { calls, api: new WorkerApiClient('http://server.test', 'ascw_t', fetchFn) };
}

describe('JobCredentials', () => {
  it('reuses the credentials until two minutes before they expire, then asks again', async () => {
    const clock = new FakeClock();
    const { calls, api } = fakeServer(clock);
    const creds = new JobCredentials(api, 'j1', 'wtk_1@h:1', clock);
    const tokens = creds.tokens();
    expect(await tokens.token()).toBe('jwt-1');
    expect(await creds.artifactUrl()).toBe('http://server.test/api/v1/worker/artifacts/a?sig=1');
    clock.advance(7 * 60_000);
    expect(await tokens.token()).toBe('jwt-1');
    clock.advance(60_001); // 8 minutes in: less than 2 of the 10 left
    expect(await tokens.token()).toBe('jwt-2');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual({
      url: 'http://server.test/api/v1/worker/jobs/j1/credentials',
      auth: 'Bearer ascw_t',
      body: { worker: 'wtk_1@h:1' },
    });
  });

  it('asks again after Apple refused the token, and for a fresh URL after a 403', async () => {
    const clock = new FakeClock();
    const { calls, api } = fakeServer(clock);
    const creds = new JobCredentials(api, 'j1', 'w', clock);
    const tokens = creds.tokens();
    const first = await tokens.token();
    tokens.invalidate('some other token');
    expect(await tokens.token()).toBe(first);
    tokens.invalidate(first);
    expect(await tokens.token()).toBe('jwt-2');
    expect(await creds.artifactUrl({ fresh: true })).toMatch(/sig=3$/);
    expect(calls).toHaveLength(3);
  });

  it('passes the server’s error on with its code', async () => {
    const clock = new FakeClock();
    const { api } = fakeServer(clock);
    await expect(new JobCredentials(api, 'j2', 'w', clock).get()).rejects.toMatchObject({ code: 'JOB_NOT_LEASED' });
  });
});

describe('WorkerApiClient build calls', () => {
  it('streams the artifact from disk with its name, size and the worker, and returns the id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ascend-wapi-up-'));
    try {
      const file = join(dir, 'App.ipa');
      const bytes = randomBytes(300 * 1024);
      writeFileSync(file, bytes);
      const seen: { url: string; headers: Headers; streamed: boolean; body: Buffer }[] = [];
      const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
        const body = init?.body as ReadableStream<Uint8Array>;
        const chunks: Uint8Array[] = [];
        for await (const c of body) chunks.push(c);
        seen.push({
          url: String(input),
          headers: new Headers(init?.headers),
          streamed: body instanceof ReadableStream && chunks.length > 1,
          body: Buffer.concat(chunks),
        });
        return Response.json({ id: 'art_1' }, { status: 201 });
      }) as typeof fetch;
      const api = new WorkerApiClient('http://server.test', 'ascw_t', fetchFn);
      expect(await api.uploadArtifact('j 1', 'wtk_1@h:1', file)).toBe('art_1');
      expect(seen).toHaveLength(1);
      const [s] = seen;
      expect(s!.url).toBe('http://server.test/api/v1/worker/jobs/j%201/artifact');
      expect(Object.fromEntries(s!.headers)).toMatchObject({
        authorization: 'Bearer ascw_t',
        'content-type': 'application/octet-stream',
        'content-length': String(bytes.length),
        'x-filename': 'App.ipa',
        'x-ascend-worker': 'wtk_1@h:1',
      });
      // Read from disk in chunks as fetch pulls them, not handed over as one buffer.
      expect(s!.streamed).toBe(true);
      expect(s!.body.equals(bytes)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks for a build job’s env values and passes a refusal on with its code', async () => {
    const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
      expect(JSON.parse(String(init?.body))).toEqual({ worker: 'w' });
      if (String(input).endsWith('/jobs/j1/build-env')) return Response.json({ env: { TOKEN: 'v' } });
      return new Response(JSON.stringify({ error: { code: 'JOB_NOT_LEASED', message: 'not yours' } }), { status: 409 });
    }) as typeof fetch;
    const api = new WorkerApiClient('http://server.test', 'ascw_t', fetchFn);
    expect(await api.buildEnv('j1', 'w')).toEqual({ TOKEN: 'v' });
    await expect(api.buildEnv('j2', 'w')).rejects.toMatchObject({ code: 'JOB_NOT_LEASED' });
  });
});
