import { createHash, createHmac, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import type { Clock, Random } from '../src/core/clock.js';
import { conflict } from './errors.js';
import { drawFault, type FaultPlan } from './faults.js';
import { single } from './jsonapi.js';
import { mustGet } from './reads.js';
import { addBuild } from './seed.js';
import type { Rec, Store } from './store.js';
import { RateLimiter, throttled } from './throttle.js';
import { visibleRel } from './write-helpers.js';
import type { WriteCtx, WriteResult } from './writes.js';

export interface UploadConfig {
  dataDir: string;
  partSize: number;
  processingMs: number;
  /** How long each review stage takes (beta review, App Review). */
  reviewMs: number;
  uploadExpiryMs: number;
  secret: Buffer;
  bandwidth?: RateLimiter;
  connectionBytesPerSecond?: number;
}

interface FileInternal {
  dataPath: string;
  received: number[];
  committed: boolean;
}

export function sign(secret: Buffer, fileId: string, part: number, exp: number): string {
  return createHmac('sha256', secret).update(`${fileId}:${part}:${exp}`).digest('base64url');
}

/** `POST /v1/buildUploadFiles`: reserves the file and hands out pre-signed part URLs that tile it. */
export function reserveFile(cfg: UploadConfig): (ctx: WriteCtx) => WriteResult {
  return (ctx) => {
    const attrs = ctx.body.data.attributes as { assetType: string; fileName: string; fileSize: number; uti: string };
    const upload = visibleRel(ctx, 'buildUploads', 'buildUpload');
    const uploadId = upload.id;
    if ((upload.attributes.state as { state: string }).state !== 'AWAITING_UPLOAD') {
      throw conflict('STATE_ERROR', 'Files can only be added to a build upload that is awaiting upload');
    }
    const slot =
      attrs.assetType === 'ASSET'
        ? 'assetFile'
        : attrs.assetType === 'ASSET_DESCRIPTION'
          ? 'assetDescriptionFile'
          : 'assetSpiFile';
    if (upload.rels[slot])
      throw conflict(
        'ENTITY_ERROR.ATTRIBUTE.INVALID',
        `This build upload already has an ${attrs.assetType} file`,
        '/data/attributes/assetType',
      );
    const expected = upload.attributes.platform === 'MAC_OS' ? 'com.apple.pkg' : 'com.apple.ipa';
    if (attrs.assetType === 'ASSET' && attrs.uti !== expected) {
      throw conflict(
        'ENTITY_ERROR.ATTRIBUTE.INVALID',
        `A ${String(upload.attributes.platform)} build is uploaded as ${expected}, not ${attrs.uti}`,
        '/data/attributes/uti',
      );
    }
    const id = ctx.store.newId('buildUploadFiles');
    mkdirSync(cfg.dataDir, { recursive: true });
    const dataPath = join(cfg.dataDir, `${id}.bin`);
    closeSync(openSync(dataPath, 'w'));
    const exp = ctx.clock.now() + cfg.uploadExpiryMs;
    const ops = [];
    for (let offset = 0, part = 1; offset < attrs.fileSize; offset += cfg.partSize, part++) {
      ops.push({
        method: 'PUT',
        url: `${ctx.baseUrl}/__upload/${id}/${part}?exp=${exp}&sig=${sign(cfg.secret, id, part, exp)}`,
        length: Math.min(cfg.partSize, attrs.fileSize - offset),
        offset,
        requestHeaders: [{ name: 'Content-Type', value: 'application/octet-stream' }],
        expiration: new Date(exp).toISOString(),
        partNumber: part,
      });
    }
    const internal: FileInternal = { dataPath, received: [], committed: false };
    ctx.store.insert({
      type: 'buildUploadFiles',
      id,
      teamId: upload.teamId,
      attributes: {
        ...attrs,
        assetToken: randomBytes(12).toString('hex'),
        assetDeliveryState: { state: 'AWAITING_UPLOAD', errors: [], warnings: [] },
        uploadOperations: ops,
      },
      rels: { buildUpload: uploadId },
      internal: internal as unknown as Record<string, unknown>,
    });
    upload.rels[slot] = id;
    const rec = ctx.store.get('buildUploadFiles', id)!;
    return {
      status: 201,
      body: single(rec, { ...ctx, path: `/v1/buildUploadFiles/${id}` }),
      headers: { location: `${ctx.baseUrl}/v1/buildUploadFiles/${id}` },
    };
  };
}

async function digestFile(path: string, algorithm: 'md5' | 'sha256'): Promise<string> {
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * `PATCH /v1/buildUploadFiles/{id}` with `uploaded: true`: the received byte count must equal `fileSize`
 * and the checksum must match the bytes received (Apple's asset-upload rules); a mismatch is a 409 and
 * nothing changes. Once committed, no part can be sent again.
 */
export function commitFile(cfg: UploadConfig): (ctx: WriteCtx) => Promise<WriteResult> {
  return async (ctx) => {
    const file = mustGet(ctx, 'buildUploadFiles', ctx.pathParams[0]!);
    const internal = file.internal as unknown as FileInternal;
    const attrs = ctx.body.data.attributes as {
      uploaded?: boolean | null;
      sourceFileChecksums?: { file?: { hash?: string; algorithm?: string } } | null;
    };
    if (attrs.uploaded === true) {
      if (internal.committed) throw conflict('STATE_ERROR', 'This file was already committed');
      const ops = file.attributes.uploadOperations as { partNumber: number }[];
      const missing = ops.filter((o) => !internal.received.includes(o.partNumber)).map((o) => o.partNumber);
      if (missing.length)
        throw conflict(
          'STATE_ERROR.UPLOAD_INCOMPLETE',
          `Parts ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''} were not received`,
        );
      const sum = attrs.sourceFileChecksums?.file;
      if (sum?.hash) {
        const actual = await digestFile(internal.dataPath, sum.algorithm === 'SHA_256' ? 'sha256' : 'md5');
        if (actual !== sum.hash.toLowerCase()) {
          throw conflict(
            'ENTITY_ERROR.ATTRIBUTE.INVALID',
            `The ${sum.algorithm} checksum does not match the uploaded data`,
            '/data/attributes/sourceFileChecksums',
          );
        }
      }
      internal.committed = true;
      file.attributes.sourceFileChecksums = attrs.sourceFileChecksums ?? null;
      file.attributes.assetDeliveryState = { state: 'UPLOAD_COMPLETE', errors: [], warnings: [] };
      const upload = ctx.store.get('buildUploads', file.rels.buildUpload as string)!;
      if (file.attributes.assetType === 'ASSET') {
        upload.attributes.state = { state: 'PROCESSING', errors: [], warnings: [], infos: [] };
        upload.attributes.uploadedDate = new Date(ctx.clock.now()).toISOString();
        upload.internal = { ...upload.internal, processUntil: ctx.clock.now() + cfg.processingMs };
      }
    }
    return { status: 200, body: single(file, { ...ctx, path: `/v1/buildUploadFiles/${file.id}` }) };
  };
}

/** Applies the state transitions whose time has come: processing uploads finish, processing builds become VALID. */
export function advance(store: Store, clock: Clock, cfg: UploadConfig): boolean {
  const now = clock.now();
  let changed = false;
  for (const u of store.list('buildUploads')) {
    const until = u.internal?.processUntil as number | undefined;
    if ((u.attributes.state as { state: string }).state !== 'PROCESSING' || until === undefined || until > now)
      continue;
    changed = true;
    finishProcessing(store, u, now, cfg);
  }
  for (const b of store.list('builds')) {
    const validAt = b.internal?.validAt as number | undefined;
    if (b.attributes.processingState !== 'PROCESSING' || validAt === undefined || validAt > now) continue;
    changed = true;
    b.attributes.processingState = 'VALID';
    const detail = store.get('buildBetaDetails', b.rels.buildBetaDetail as string);
    if (detail) {
      const answered = b.attributes.usesNonExemptEncryption !== undefined;
      detail.attributes.internalBuildState = answered ? 'READY_FOR_BETA_TESTING' : 'MISSING_EXPORT_COMPLIANCE';
      detail.attributes.externalBuildState = answered ? 'READY_FOR_BETA_SUBMISSION' : 'MISSING_EXPORT_COMPLIANCE';
    }
  }
  return changed;
}

const CLOSED_STATES = new Set([
  'READY_FOR_SALE',
  'READY_FOR_DISTRIBUTION',
  'PENDING_DEVELOPER_RELEASE',
  'PENDING_APPLE_RELEASE',
  'ACCEPTED',
  'PROCESSING_FOR_DISTRIBUTION',
  'REPLACED_WITH_NEW_VERSION',
]);

function sameNumber(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return false;
  return true;
}

function finishProcessing(store: Store, u: Rec, now: number, cfg: UploadConfig): void {
  const appId = u.rels.app as string;
  const version = String(u.attributes.cfBundleShortVersionString);
  const build = String(u.attributes.cfBundleVersion);
  const platform = String(u.attributes.platform);
  const fail = (code: string, description: string) => {
    u.attributes.state = { state: 'FAILED', errors: [{ code, description }], warnings: [], infos: [] };
    const f = store.get('buildUploadFiles', u.rels.assetFile as string);
    if (f) f.attributes.assetDeliveryState = { state: 'FAILED', errors: [{ code, description }], warnings: [] };
  };
  const trains = store
    .list('preReleaseVersions')
    .filter(
      (p) =>
        p.rels.app === appId && p.attributes.platform === platform && sameNumber(String(p.attributes.version), version),
    );
  const duplicate = store
    .list('builds')
    .some(
      (b) => trains.some((t) => t.id === b.rels.preReleaseVersion) && sameNumber(String(b.attributes.version), build),
    );
  const closed = store
    .list('appStoreVersions')
    .some(
      (v) =>
        v.rels.app === appId &&
        v.attributes.platform === platform &&
        sameNumber(String(v.attributes.versionString), version) &&
        CLOSED_STATES.has(String(v.attributes.appVersionState)),
    );
  const f = store.get('buildUploadFiles', u.rels.assetFile as string);
  if (f) rmSync((f.internal as unknown as FileInternal).dataPath, { force: true });
  if (duplicate) {
    fail(
      '90189',
      `Redundant Binary Upload. You've already uploaded a build with build number '${build}' for version number '${version}'. Make sure you increment the build string before you upload your app to App Store Connect.`,
    );
    return;
  }
  if (closed) {
    fail('90186', `Invalid Pre-Release Train. The train version '${version}' is closed for new build submissions`);
    return;
  }
  const app = store.get('apps', appId)!;
  const buildId = addBuild(store, app, {
    version,
    buildNumber: build,
    platform,
    processingState: 'PROCESSING',
    uploadedDate: String(u.attributes.uploadedDate ?? new Date(now).toISOString()),
    usesNonExemptEncryption: u.internal?.usesNonExemptEncryption as boolean | undefined,
  });
  const b = store.get('builds', buildId)!;
  b.rels.buildUpload = u.id;
  b.internal = { validAt: now + cfg.processingMs };
  u.rels.build = buildId;
  u.attributes.state = { state: 'COMPLETE', errors: [], warnings: [], infos: [] };
  if (f) f.attributes.assetDeliveryState = { state: 'COMPLETE', errors: [], warnings: [] };
}

/**
 * The pre-signed part URLs: no JWT, a signature and an expiry in the query. Each part must carry exactly its
 * length; it is written at its offset in the reserved file. Faults and bandwidth shaping apply here too.
 */
export function registerPartRoute(
  app: FastifyInstance,
  deps: {
    store: Store;
    clock: Clock;
    random: Random;
    faults: FaultPlan[];
    cfg: UploadConfig;
    onChange: () => void;
    stats: Map<string, number>;
  },
): void {
  app.put<{ Params: { fileId: string; part: string }; Querystring: { exp?: string; sig?: string } }>(
    '/__upload/:fileId/:part',
    async (req, reply) => {
      deps.stats.set('PUT /__upload', (deps.stats.get('PUT /__upload') ?? 0) + 1);
      const fault = drawFault(deps.faults, deps.random);
      if (fault === 'reset') {
        reply.hijack();
        req.raw.socket?.destroy();
        return;
      }
      const send = (status: number, code: string, message: string) => {
        req.raw.resume(); // drain so the client sees the answer instead of a stalled upload
        return reply
          .code(status)
          .header('content-type', 'application/xml')
          .send(`<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
      };
      if (fault === '5xx') return send(503, 'SlowDown', 'Please reduce your request rate.');
      if (fault === '429') return send(429, 'TooManyRequests', 'Too many requests.');
      const file = deps.store.get('buildUploadFiles', req.params.fileId);
      const part = Number(req.params.part);
      const exp = Number(req.query.exp);
      if (!file || !req.query.sig || req.query.sig !== sign(deps.cfg.secret, req.params.fileId, part, exp))
        return send(403, 'SignatureDoesNotMatch', 'The request signature is not valid.');
      if (exp < deps.clock.now()) return send(403, 'AccessDenied', 'Request has expired.');
      const internal = file.internal as unknown as FileInternal;
      if (internal.committed) return send(409, 'InvalidRequest', 'The upload was already committed.');
      const op = (file.attributes.uploadOperations as { partNumber: number; offset: number; length: number }[]).find(
        (o) => o.partNumber === part,
      );
      if (!op) return send(404, 'NoSuchUpload', 'No such part.');
      if (Number(req.headers['content-length']) !== op.length)
        return send(400, 'IncompleteBody', `Content-Length must be ${op.length}.`);
      const limiters = [
        deps.cfg.bandwidth,
        deps.cfg.connectionBytesPerSecond ? new RateLimiter(deps.cfg.connectionBytesPerSecond) : undefined,
      ].filter((l): l is RateLimiter => l !== undefined);
      const md5 = createHash('md5');
      let received = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _e, done) {
          received += chunk.length;
          md5.update(chunk);
          done(null, chunk);
        },
      });
      try {
        const out = createWriteStream(internal.dataPath, { flags: 'r+', start: op.offset });
        const body = req.body as NodeJS.ReadableStream;
        if (limiters.length) await pipeline(body, throttled(limiters), counter, out);
        else await pipeline(body, counter, out);
      } catch {
        return; // the client went away; the part is simply not received
      }
      if (received !== op.length) return send(400, 'IncompleteBody', `Received ${received} of ${op.length} bytes.`);
      if (!internal.received.includes(part)) internal.received.push(part);
      deps.onChange();
      if (fault === 'drop-response') {
        reply.hijack();
        req.raw.socket?.destroy();
        return;
      }
      return reply
        .code(200)
        .header('etag', `"${md5.digest('hex')}"`)
        .send();
    },
  );
}
