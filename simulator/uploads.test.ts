import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock.js';
import { buildIpa, type IpaSpec } from '../src/sample/builder.js';
import { appleToken } from '../test/helpers/jwt.js';
import { createSimulator, type SimulatorOptions } from './index.js';
import { fileInternal } from './upload-files.js';

const tmp = mkdtempSync(join(tmpdir(), 'sim-uploads-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PART = 64 * 1024;

async function ipa(name: string, spec: IpaSpec = {}): Promise<Buffer> {
  const path = join(tmp, `${name}.ipa`);
  await buildIpa(path, { version: '2.0.0', build: '81', payloadBytes: 3 * PART + 123, ...spec });
  return readFileSync(path);
}

function setup(opts: SimulatorOptions = {}) {
  const clock = new FakeClock(Date.UTC(2026, 5, 1));
  const sim = createSimulator({
    clock,
    partSizeBytes: PART,
    processingSeconds: 1,
    dataDir: join(tmp, 'data'),
    ...opts,
  });
  const key = sim.createKey({ role: 'APP_MANAGER' });
  const auth = () => ({ authorization: `Bearer ${appleToken(key, Math.floor(clock.now() / 1000))}` });
  const api = (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) =>
    sim.app.inject({
      method,
      url,
      headers: { ...auth(), ...(body ? { 'content-type': 'application/json' } : {}) },
      payload: body ? JSON.stringify(body) : undefined,
    });
  /** Creates the upload and reserves the file; returns its id and operations. */
  const reserve = async (bytes: Buffer, version = '2.0.0', build = '81') => {
    const up = await api('POST', '/v1/buildUploads', {
      data: {
        type: 'buildUploads',
        attributes: { cfBundleShortVersionString: version, cfBundleVersion: build, platform: 'IOS' },
        relationships: { app: { data: { type: 'apps', id: '1000000001' } } },
      },
    });
    const uploadId = up.json().data.id as string;
    const res = await api('POST', '/v1/buildUploadFiles', {
      data: {
        type: 'buildUploadFiles',
        attributes: { assetType: 'ASSET', fileName: 'App.ipa', fileSize: bytes.length, uti: 'com.apple.ipa' },
        relationships: { buildUpload: { data: { type: 'buildUploads', id: uploadId } } },
      },
    });
    expect(res.statusCode).toBe(201);
    const attrs = res.json().data.attributes;
    return {
      uploadId,
      fileId: res.json().data.id as string,
      attrs,
      ops: attrs.uploadOperations as { url: string; offset: number; length: number; partNumber: number }[],
    };
  };
  const put = (url: string, body: Buffer, headers: Record<string, string> = {}) =>
    sim.app.inject({
      method: 'PUT',
      url: new URL(url).pathname + new URL(url).search,
      headers: { 'content-type': 'application/octet-stream', ...headers },
      payload: body,
    });
  const sendAll = async (bytes: Buffer, ops: { url: string; offset: number; length: number }[]) => {
    for (const op of ops)
      expect((await put(op.url, bytes.subarray(op.offset, op.offset + op.length))).statusCode).toBe(200);
  };
  const commit = (fileId: string, checksums?: unknown) =>
    api('PATCH', `/v1/buildUploadFiles/${fileId}`, {
      data: {
        type: 'buildUploadFiles',
        id: fileId,
        attributes: { uploaded: true, ...(checksums !== undefined ? { sourceFileChecksums: checksums } : {}) },
      },
    });
  /** Lets processing run on the fake clock and returns the upload. */
  const processed = async (uploadId: string) => {
    clock.advance(1500);
    return (await api('GET', `/v1/buildUploads/${uploadId}?include=build`)).json();
  };
  return { sim, clock, api, reserve, put, sendAll, commit, processed };
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('simulator uploads: the binary is compared with the declared upload', () => {
  it('an .ipa whose Info.plist says build 81, committed as build 82, fails with 90055', async () => {
    const s = setup();
    const bytes = await ipa('b81');
    const r = await s.reserve(bytes, '2.0.0', '82');
    await s.sendAll(bytes, r.ops);
    expect((await s.commit(r.fileId)).statusCode).toBe(200);
    const doc = await s.processed(r.uploadId);
    expect(doc.data.attributes.state.state).toBe('FAILED');
    expect(doc.data.attributes.state.errors[0].code).toBe('90055');
  });

  it('another app’s .ipa fails with 90054; bytes that are not an app fail with 90167', async () => {
    const s = setup();
    const other = await ipa('other', { bundleId: 'com.example.sandbox.two' });
    const r1 = await s.reserve(other);
    await s.sendAll(other, r1.ops);
    await s.commit(r1.fileId);
    const junk = Buffer.alloc(2 * PART, 7);
    const r2 = await s.reserve(junk, '2.0.0', '83');
    await s.sendAll(junk, r2.ops);
    await s.commit(r2.fileId);
    expect((await s.processed(r1.uploadId)).data.attributes.state.errors[0].code).toBe('90054');
    expect((await s.processed(r2.uploadId)).data.attributes.state.errors[0].code).toBe('90167');
  });

  it('ITSAppUsesNonExemptEncryption=false in the .ipa settles export compliance for the new build', async () => {
    const s = setup();
    const bytes = await ipa('exempt', { encryption: false });
    const r = await s.reserve(bytes);
    await s.sendAll(bytes, r.ops);
    await s.commit(r.fileId);
    const doc = await s.processed(r.uploadId);
    expect(doc.data.attributes.state.state).toBe('COMPLETE');
    const buildId = doc.data.relationships.build.data.id;
    s.clock.advance(1500);
    const build = (await s.api('GET', `/v1/builds/${buildId}?include=buildBetaDetail`)).json();
    expect(build.data.attributes.usesNonExemptEncryption).toBe(false);
    expect(build.included[0].attributes.internalBuildState).toBe('READY_FOR_BETA_TESTING');
  });
});

describe('simulator uploads: part URLs answer as a pre-signed storage URL does, before writing anything', () => {
  it('a part with a missing or different Content-Type is refused (403, XML) and nothing is written', async () => {
    const s = setup();
    const bytes = await ipa('ct');
    const r = await s.reserve(bytes);
    await s.sendAll(bytes, r.ops.slice(0, 2));
    const path = fileInternal(s.sim.store.get('buildUploadFiles', r.fileId)!).dataPath;
    const before = readFileSync(path);
    const op = r.ops[0]!;
    for (const type of ['text/plain', 'application/json', '']) {
      const res = await s.put(op.url, Buffer.alloc(op.length, 0x41), { 'content-type': type });
      expect(res.statusCode, type).toBe(403);
      expect(res.headers['content-type']).toContain('application/xml');
      expect(res.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    }
    // A small body at a part's offset: refused by length, and the neighbouring part's bytes are intact.
    expect((await s.put(op.url, Buffer.from('hi'), { 'content-type': 'text/plain' })).statusCode).toBe(403);
    expect((await s.put(op.url, Buffer.from('hi'))).statusCode).toBe(400);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('a part carrying an Authorization header is refused with 400 (a JWT leaking to the storage host)', async () => {
    const s = setup();
    const bytes = await ipa('auth');
    const r = await s.reserve(bytes);
    const op = r.ops[0]!;
    const res = await s.put(op.url, bytes.subarray(0, op.length), { authorization: 'Bearer a.b.c' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('<Code>InvalidArgument</Code>');
    expect(fileInternal(s.sim.store.get('buildUploadFiles', r.fileId)!).received).toEqual([]);
  });

  it('a part whose data file is gone answers 404 NoSuchUpload instead of hanging', async () => {
    const s = setup();
    const bytes = await ipa('gone');
    const r = await s.reserve(bytes);
    rmSync(fileInternal(s.sim.store.get('buildUploadFiles', r.fileId)!).dataPath);
    const res = await s.put(r.ops[0]!.url, bytes.subarray(0, r.ops[0]!.length));
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain('NoSuchUpload');
    const commit = await s.commit(r.fileId);
    expect(commit.statusCode).toBe(409);
    expect(commit.json().errors[0].detail).toContain('no longer available');
  });
});

describe('simulator uploads: checksums', () => {
  it('reserve shows sourceFileChecksums (never null); a commit without one records the received MD5', async () => {
    const s = setup();
    const bytes = await ipa('nosum');
    const r = await s.reserve(bytes);
    expect(r.attrs.sourceFileChecksums).not.toBeNull();
    expect(r.attrs).toHaveProperty('sourceFileChecksums');
    await s.sendAll(bytes, r.ops);
    const res = await s.commit(r.fileId);
    expect(res.json().data.attributes.sourceFileChecksums).toEqual({ file: { hash: md5(bytes), algorithm: 'MD5' } });
  });

  it('digests are computed as parts arrive: the commit does not read the file again', async () => {
    const s = setup();
    const bytes = await ipa('incremental');
    const r = await s.reserve(bytes);
    // Out of order, with one part sent twice (the second copy is what counts).
    const [a, b, c, ...rest] = r.ops;
    for (const op of [c!, a!, ...rest, b!, a!])
      expect((await s.put(op.url, bytes.subarray(op.offset, op.offset + op.length))).statusCode).toBe(200);
    await s.sim.hashing(); // the background pass, not the commit, reads the parts
    truncateSync(fileInternal(s.sim.store.get('buildUploadFiles', r.fileId)!).dataPath, 10);
    const res = await s.commit(r.fileId, { file: { hash: md5(bytes), algorithm: 'MD5' } });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('SHA-256 is checked too (computed at the commit, as clients rarely send it)', async () => {
    const s = setup();
    const bytes = await ipa('sha');
    const r = await s.reserve(bytes);
    await s.sendAll(bytes, r.ops);
    const wrong = await s.commit(r.fileId, { file: { hash: 'ab'.repeat(32), algorithm: 'SHA_256' } });
    expect(wrong.statusCode).toBe(409);
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect((await s.commit(r.fileId, { file: { hash: sha, algorithm: 'SHA_256' } })).statusCode).toBe(200);
  });

  it('a wrong checksum is a 409 and the file can still be committed with the right one', async () => {
    const s = setup();
    const bytes = await ipa('wrong');
    const r = await s.reserve(bytes);
    await s.sendAll(bytes, r.ops);
    const bad = await s.commit(r.fileId, { file: { hash: '0'.repeat(32), algorithm: 'MD5' } });
    expect(bad.statusCode).toBe(409);
    expect((await s.commit(r.fileId, { file: { hash: md5(bytes), algorithm: 'MD5' } })).statusCode).toBe(200);
  });

  it('refuseChecksums answers the 409 on /data/attributes/sourceFileChecksums; a commit without one then works', async () => {
    const seedPath = join(tmp, 'seed.json');
    const { DEFAULT_SEED } = await import('./seed.js');
    writeFileSync(seedPath, JSON.stringify({ ...DEFAULT_SEED, refuseChecksums: true }));
    for (const opts of [{ refuseChecksums: true }, { seed: seedPath }]) {
      const s = setup(opts);
      const bytes = await ipa('refuse');
      const r = await s.reserve(bytes);
      await s.sendAll(bytes, r.ops);
      const refused = await s.commit(r.fileId, { file: { hash: md5(bytes), algorithm: 'SHA_256' } });
      expect(refused.statusCode).toBe(409);
      expect(refused.json().errors[0]).toMatchObject({
        code: 'ENTITY_ERROR.ATTRIBUTE.INVALID',
        source: { pointer: '/data/attributes/sourceFileChecksums' },
      });
      expect(s.sim.store.get('buildUploads', r.uploadId)!.attributes.state).toMatchObject({ state: 'AWAITING_UPLOAD' });
      expect((await s.commit(r.fileId)).statusCode).toBe(200);
    }
  });
});
