import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import yazl from 'yazl';
import { FakeClock } from '../../core/clock.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../../sample/builder.js';
import { createApiToken } from '../accounts/api-tokens.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { LoginLimiter } from '../accounts/login-limiter.js';
import { ipaInspector } from '../apple/inspector.js';
import { ArtifactFiles } from '../store/artifact-files.js';
import type { StoreDeps } from '../store/ids.js';
import { describeStores } from '../store/testing/dialects.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import { buildApi } from './app.js';

/** A zip whose one entry climbs out of the folder it would be extracted to (yazl refuses to write one). */
function climbingZip(): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from('x'), 'Payload/aa/aa/evil.txt');
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => {
      const bytes = Buffer.concat(chunks);
      let at = bytes.indexOf('Payload/aa/aa/');
      while (at >= 0) {
        bytes.write('Payload/../../', at, 'latin1');
        at = bytes.indexOf('Payload/aa/aa/', at);
      }
      resolve(bytes);
    });
    zip.outputStream.on('error', reject);
  });
}

describeStores('HTTP API: artifacts inspected by src/ipa', (ctx) => {
  let app: FastifyInstance;
  let dir: string;
  let files: string;
  let releaser: Record<string, string>;
  const deps: StoreDeps = { clock: new FakeClock(Date.UTC(2026, 0, 10)), randomBytes: (n) => randomBytes(n) };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ascend-api-ipa-'));
    files = join(dir, 'artifacts');
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
        files: new ArtifactFiles(files, (n) => randomBytes(n)),
        maxBytes: 4 * 1024 * 1024,
        inspect: ipaInspector(() => new Date(deps.clock.now()), [SAMPLE_ROOT_SHA256]),
      },
    });
    const first = await ensureFirstAdmin(store, deps);
    releaser = {
      authorization: `Bearer ${(await createApiToken(store, deps, first.team.id, { name: 'ci', role: 'releaser' })).token}`,
    };
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const upload = (payload: Buffer) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/artifacts',
      headers: { ...releaser, 'content-type': 'application/octet-stream', 'x-filename': '../../etc/App.ipa' },
      payload,
    });
  const stored = () => readdirSync(files, { recursive: true }).filter((f) => String(f).length > 60);

  it('the sample .ipa answers its facts and findings, under its uploaded name only', async () => {
    const ipa = join(dir, 'Sample.ipa');
    await buildIpa(ipa, { bundleId: 'com.example.sandbox.one', version: '1.1.0', build: '7' });
    const res = await upload(readFileSync(ipa));
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.facts).toMatchObject({ kind: 'ipa', file: 'App.ipa' });
    expect(JSON.stringify(body.facts)).toContain('com.example.sandbox.one');
    expect(JSON.stringify(body)).not.toContain(dir);
    // The profile is signed by the sample root, which this server trusts: no error finding.
    expect(body.findings.filter((f: { severity: string }) => f.severity === 'error')).toEqual([]);
    expect(stored()).toHaveLength(1);
  });

  it('hostile archives get the CLI’s error codes and are not kept', async () => {
    const garbage = await upload(randomBytes(4096));
    expect(garbage.statusCode).toBeGreaterThanOrEqual(400);
    expect(garbage.statusCode).toBeLessThan(500);
    expect(garbage.json().error.code).toBe('IPA_NOT_ZIP');
    const climbing = await upload(await climbingZip());
    expect(climbing.statusCode).toBeGreaterThanOrEqual(400);
    expect(climbing.statusCode).toBeLessThan(500);
    expect(climbing.json().error.code).toMatch(/^IPA_(UNSAFE_PATH|NO_APP)$/);
    expect(stored()).toHaveLength(1);
  });
});
