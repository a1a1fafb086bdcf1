import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock.js';
import { AscendError } from '../src/core/errors.js';
import { appleToken } from '../test/helpers/jwt.js';
import { createSimulator, type SimulatorOptions, startSimulator } from './index.js';
import { DEFAULT_SEED } from './seed.js';

const tmp = mkdtempSync(join(tmpdir(), 'sim-state-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function setup(opts: SimulatorOptions = {}) {
  const clock = (opts.clock as FakeClock | undefined) ?? new FakeClock(Date.UTC(2026, 5, 1));
  const sim = createSimulator({ clock, ...opts });
  const key = [...sim.store.keys.values()][0] ? undefined : sim.createKey({ role: 'APP_MANAGER' });
  return { sim, clock, key };
}

const reserveBody = (uploadId: string) => ({
  data: {
    type: 'buildUploadFiles',
    attributes: { assetType: 'ASSET', fileName: 'a.ipa', fileSize: 10, uti: 'com.apple.ipa' },
    relationships: { buildUpload: { data: { type: 'buildUploads', id: uploadId } } },
  },
});

describe('simulator state file', () => {
  it('is written owner-only (0600), atomically, with the part-URL secret: a URL from before a restart works after it', async () => {
    const dir = mkdtempSync(join(tmp, 'restart-'));
    const stateFile = join(dir, 'state.json');
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const first = createSimulator({ clock, stateFile, dataDir: join(dir, 'data') });
    const key = first.createKey();
    const auth = { authorization: `Bearer ${appleToken(key, clock.now() / 1000)}`, 'content-type': 'application/json' };
    const up = await first.app.inject({
      method: 'POST',
      url: '/v1/buildUploads',
      headers: auth,
      payload: {
        data: {
          type: 'buildUploads',
          attributes: { cfBundleShortVersionString: '3.0', cfBundleVersion: '1', platform: 'IOS' },
          relationships: { app: { data: { type: 'apps', id: '1000000001' } } },
        },
      },
    });
    const file = await first.app.inject({
      method: 'POST',
      url: '/v1/buildUploadFiles',
      headers: auth,
      payload: reserveBody(up.json().data.id),
    });
    const url = new URL(file.json().data.attributes.uploadOperations[0].url);
    await first.close();
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    const second = createSimulator({ clock, stateFile, dataDir: join(dir, 'data') });
    const put = await second.app.inject({
      method: 'PUT',
      url: url.pathname + url.search,
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(10, 1),
    });
    expect(put.statusCode, put.body).toBe(200);
    await second.close();
  });

  it('a damaged state file is refused with one clear line, never replaced by the seed', () => {
    const cases: [string, RegExp][] = [
      ['{"version":1,"teams":', /is damaged: .*JSON/],
      ['{"version":1,"teams":[],"keys":[],"resources":[{"type":"apps"}],"seq":0}', /is damaged: resources\.0\.id/],
    ];
    for (const [text, why] of cases) {
      const stateFile = join(tmp, 'damaged.json');
      writeFileSync(stateFile, text);
      let err: unknown;
      try {
        createSimulator({ stateFile });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AscendError);
      expect((err as AscendError).code).toBe('STATE_FILE_INVALID');
      expect((err as AscendError).message).toMatch(why);
      expect((err as AscendError).message).not.toContain('\n');
    }
  });
});

describe('simulator clock', () => {
  it('builds expire 90 days after upload by the simulator’s clock; POST /__sim/clock and --clock move it', async () => {
    const seed = {
      ...DEFAULT_SEED,
      builds: [
        { app: 'com.example.sandbox.one', version: '1.0.0', buildNumber: '1', uploadedDaysAgo: 100 },
        { app: 'com.example.sandbox.one', version: '1.0.0', buildNumber: '2', uploadedDaysAgo: 1 },
      ],
    };
    const { sim, clock } = setup({ seed });
    const key = sim.createKey();
    const list = async () =>
      (
        await sim.app.inject({
          method: 'GET',
          url: '/v1/builds?sort=version',
          headers: { authorization: `Bearer ${appleToken(key, clock.now() / 1000)}` },
        })
      )
        .json()
        .data.map((b: { attributes: { expired: boolean } }) => b.attributes.expired);
    expect(await list()).toEqual([true, false]);
    const moved = await sim.app.inject({
      method: 'POST',
      url: '/__sim/clock',
      payload: { advanceSeconds: 90 * 86_400 },
    });
    expect(moved.statusCode).toBe(200);
    expect(await list()).toEqual([true, true]);
    // Tokens are still checked against the real clock: the token above was minted on it and is accepted.
    const bad = await sim.app.inject({ method: 'POST', url: '/__sim/clock', payload: { now: 'yesterday' } });
    expect(bad.statusCode).toBe(400);
    const later = createSimulator({ clock, seed, simNow: '2027-06-01T00:00:00Z' });
    expect(new Date(later.simClock.now()).toISOString()).toBe('2027-06-01T00:00:00.000Z');
  });
});

describe('simulator timeouts', () => {
  it('a part body that stalls is cut off with 400 RequestTimeout instead of being held open', async () => {
    const sim = await startSimulator({ bodyIdleTimeoutSeconds: 0.2, dataDir: join(tmp, 'idle') });
    try {
      const key = sim.createKey();
      const token = appleToken(key, Math.floor(Date.now() / 1000));
      const call = async (method: string, path: string, body: unknown) =>
        (
          await fetch(`${sim.url}${path}`, {
            method,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          })
        ).json() as Promise<{ data: { id: string; attributes: { uploadOperations: { url: string }[] } } }>;
      const up = await call('POST', '/v1/buildUploads', {
        data: {
          type: 'buildUploads',
          attributes: { cfBundleShortVersionString: '3.0', cfBundleVersion: '2', platform: 'IOS' },
          relationships: { app: { data: { type: 'apps', id: '1000000001' } } },
        },
      });
      const file = await call('POST', '/v1/buildUploadFiles', reserveBody(up.data.id));
      const url = new URL(file.data.attributes.uploadOperations[0]!.url);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(url, {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream', 'content-length': '10' },
        });
        req.on('response', (res) => resolve(res.statusCode ?? 0));
        req.on('error', reject);
        req.write(Buffer.alloc(3)); // then nothing more
      });
      expect(status).toBe(400);
      expect(sim.app.server.requestTimeout).toBe(120_000);
      expect(sim.app.server.timeout).toBe(60_000);
    } finally {
      await sim.close();
    }
  });
});
