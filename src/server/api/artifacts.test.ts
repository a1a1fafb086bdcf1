import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { createApiToken } from '../accounts/api-tokens.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { LoginLimiter } from '../accounts/login-limiter.js';
import { createTeam } from '../accounts/teams.js';
import { ArtifactFiles } from '../store/artifact-files.js';
import type { StoreDeps } from '../store/ids.js';
import { describeStores } from '../store/testing/dialects.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { buildApi } from './app.js';

describeStores('HTTP API: artifacts', (ctx) => {
  let app: FastifyInstance;
  let dir: string;
  const deps: StoreDeps = { clock: new FakeClock(), randomBytes: (n) => randomBytes(n) };
  const inspected: string[] = [];
  let releaser: Record<string, string>;
  let viewer: Record<string, string>;
  let other: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ascend-api-artifacts-'));
    const store = ctx.store();
    app = buildApi({
      store,
      vault: new Vault(store, { current: masterKeyOf(randomBytes(32)) }, deps),
      deps,
      limiter: new LoginLimiter(deps.clock),
      secureCookies: false,
      queue: { name: 'sqlite', workers: () => 0 },
      apple: {
        checkKey: () => Promise.reject(new Error('unexpected call to Apple')),
        buildNumbersInUse: () => Promise.reject(new Error('unexpected call to Apple')),
      },
      artifacts: {
        files: new ArtifactFiles(dir, (n) => randomBytes(n)),
        maxBytes: 2 * 1024 * 1024,
        inspect: async (path, filename) => {
          inspected.push(path);
          return {
            facts: { filename, bundleId: 'com.example.app' },
            findings: [{ code: 'ICON_MISSING', severity: 'warning' }],
          };
        },
      },
    });
    const first = await ensureFirstAdmin(store, deps);
    const tok = async (teamId: string, role: 'releaser' | 'viewer') => ({
      authorization: `Bearer ${(await createApiToken(store, deps, teamId, { name: role, role })).token}`,
    });
    releaser = await tok(first.team.id, 'releaser');
    viewer = await tok(first.team.id, 'viewer');
    other = await tok((await createTeam(store, deps, 'Other')).id, 'releaser');
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const upload = (headers: Record<string, string>, payload: Buffer, filename = 'App.ipa') =>
    app.inject({
      method: 'POST',
      url: '/api/v1/artifacts',
      headers: { ...headers, 'content-type': 'application/octet-stream', 'x-filename': filename },
      payload,
    });

  it('streams the upload to the store, inspects it once, and answers facts and findings', async () => {
    const data = randomBytes(1024 * 1024 + 3);
    const res = await upload(releaser, data, '../../tmp/Evil\u0007.ipa');
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      id: expect.stringMatching(/^art_/),
      sha256: createHash('sha256').update(data).digest('hex'),
      size: data.length,
      filename: 'Evil?.ipa',
      facts: { bundleId: 'com.example.app' },
      findings: [{ code: 'ICON_MISSING' }],
    });
    expect(inspected).toEqual([join(dir, body.sha256.slice(0, 2), body.sha256)]);
    const again = await upload(releaser, data);
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(body.id);
    expect(inspected).toHaveLength(1);
    expect((await app.inject({ method: 'GET', url: `/api/v1/artifacts/${body.id}`, headers: viewer })).json().id).toBe(
      body.id,
    );
    expect((await app.inject({ method: 'GET', url: `/api/v1/artifacts/${body.id}`, headers: other })).statusCode).toBe(
      404,
    );
  });

  it('refuses viewers, a body over the limit, and a body that is not raw bytes', async () => {
    expect((await upload(viewer, Buffer.from('x'))).statusCode).toBe(403);
    const big = await upload(releaser, randomBytes(2 * 1024 * 1024 + 1));
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('ARTIFACT_TOO_LARGE');
    const json = await app.inject({ method: 'POST', url: '/api/v1/artifacts', headers: releaser, payload: { a: 1 } });
    expect(json.statusCode).toBe(400);
    expect(json.json().error.code).toBe('USAGE');
  });
});
