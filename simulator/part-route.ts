import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dropConnection } from './connection.js';
import { drawFault } from './faults.js';
import type { PartSpan } from './hasher.js';
import { sign } from './part-signing.js';
import type { ServerDeps } from './server-deps.js';
import type { Rec } from './store.js';
import { RateLimiter, throttled } from './throttle.js';
import { fileInternal, hasherOf } from './upload-files.js';

type PartRequest = FastifyRequest<{
  Params: { fileId: string; part: string };
  Querystring: { exp?: string; sig?: string };
}>;

interface Target {
  file: Rec;
  op: PartSpan;
  /** The `drop-response` fault: store the part, then close without an answer. */
  drop?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    part?: Target;
  }
}

/** Bodies up to this size are read and discarded after an error answer, so the client sees the answer. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/**
 * An answer as the storage host behind a pre-signed URL gives it (S3-style XML). Node reads and discards
 * an unread body after the answer; a body that is larger, or of unknown length, closes the connection
 * instead, so a hostile client cannot make the simulator read without bound.
 */
function storageError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  const declared = Number(reply.request.headers['content-length']);
  if (!(declared <= DRAIN_LIMIT)) reply.header('connection', 'close');
  return reply
    .code(status)
    .header('content-type', 'application/xml')
    .send(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

/**
 * Everything a pre-signed URL checks before a byte is stored, in the storage host's order: signature and
 * expiry, a second auth mechanism (a JWT sent to the storage host, 400), the signed Content-Type, the
 * part, and its exact length. Nothing is read or written before all of it passed.
 */
function checkPart(deps: ServerDeps, req: PartRequest): [number, string, string] | Target {
  const file = deps.store.get('buildUploadFiles', req.params.fileId);
  const part = Number(req.params.part);
  const exp = Number(req.query.exp);
  if (!file || !req.query.sig || req.query.sig !== sign(deps.uploads.secret, req.params.fileId, part, exp))
    return [
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    ];
  if (exp < deps.simClock.now()) return [403, 'AccessDenied', 'Request has expired.'];
  if (req.headers.authorization !== undefined)
    return [
      400,
      'InvalidArgument',
      'Only one auth mechanism allowed; the URL is already signed: send no Authorization header.',
    ];
  if (req.headers['content-type'] !== 'application/octet-stream')
    return [403, 'SignatureDoesNotMatch', 'The signed header Content-Type must be application/octet-stream.'];
  const internal = fileInternal(file);
  if (internal.committed) return [409, 'InvalidRequest', 'The upload was already committed.'];
  const op = (file.attributes.uploadOperations as PartSpan[]).find((o) => o.partNumber === part);
  if (!op || !existsSync(internal.dataPath)) return [404, 'NoSuchUpload', 'The specified upload does not exist.'];
  const length = req.headers['content-length'];
  if (length === undefined) return [411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.'];
  if (Number(length) !== op.length) return [400, 'IncompleteBody', `Content-Length must be ${op.length}.`];
  return { file, op };
}

/** Counts and hashes the part as it passes, and cuts it off when the client sends nothing for `idleMs`. */
function meter(idleMs: number, onIdle: () => void) {
  const md5 = createHash('md5');
  let received = 0;
  let timer = setTimeout(onIdle, idleMs);
  const stream = new Transform({
    transform(chunk: Buffer, _e, done) {
      clearTimeout(timer);
      timer = setTimeout(onIdle, idleMs);
      received += chunk.length;
      md5.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
  });
  stream.on('close', () => clearTimeout(timer));
  return { stream, received: () => received, etag: () => md5.digest('hex') };
}

/**
 * The pre-signed part URLs: no JWT, a signature and an expiry in the query. Each part must carry exactly its
 * length; it is written at its offset in the reserved file and hashed into the whole-file digests in the
 * background. Faults, bandwidth shaping and a body idle timeout apply here too.
 */
export function registerPartRoute(app: FastifyInstance, deps: ServerDeps): void {
  app.register(async (storage) => {
    storage.removeAllContentTypeParsers();
    // Part bodies are streamed straight to disk, never buffered or decoded (multi-GiB files).
    storage.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    storage.route({
      method: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
      url: '/__upload/:fileId/:part',
      handler: (_req, reply) => storageError(reply, 405, 'MethodNotAllowed', 'The specified method is not allowed.'),
    });
    storage.put('/__upload/:fileId/:part', {
      onRequest: async (req: PartRequest, reply) => {
        deps.stats.set('PUT /__upload', (deps.stats.get('PUT /__upload') ?? 0) + 1);
        const fault = drawFault(deps.faults, deps.random);
        if (fault === 'reset') return dropConnection(req, reply);
        if (fault === '5xx') return storageError(reply, 503, 'SlowDown', 'Please reduce your request rate.');
        if (fault === '429') return storageError(reply, 429, 'TooManyRequests', 'Too many requests.');
        const checked = checkPart(deps, req);
        if (Array.isArray(checked)) return storageError(reply, ...checked);
        req.part = { ...checked, drop: fault === 'drop-response' };
      },
      handler: (req, reply) => receivePart(deps, req, reply),
    });
  });
}

async function receivePart(deps: ServerDeps, req: FastifyRequest, reply: FastifyReply) {
  const { file, op, drop } = req.part!;
  const internal = fileInternal(file);
  const hasher = hasherOf(deps.uploads, file);
  // A part sent again is not received until all of it arrived again.
  internal.received = internal.received.filter((p) => p !== op.partNumber);
  hasher.invalidate(op.partNumber);
  const cfg = deps.uploads;
  const limiters = [
    cfg.bandwidth,
    cfg.connectionBytesPerSecond ? new RateLimiter(cfg.connectionBytesPerSecond) : undefined,
  ];
  const shaping = limiters.filter((l): l is RateLimiter => l !== undefined);
  let idle = false;
  const body = req.body as NodeJS.ReadableStream;
  const m = meter(deps.timeouts.bodyIdleMs, () => {
    // Answer at once, then close: the rest of a stalled body is never read.
    idle = true;
    reply.header('connection', 'close');
    reply.raw.once('finish', () => req.raw.socket?.destroy());
    storageError(
      reply,
      400,
      'RequestTimeout',
      'Your socket connection to the server was not read from or written to within the timeout period.',
    );
  });
  try {
    const out = createWriteStream(internal.dataPath, { flags: 'r+', start: op.offset });
    if (shaping.length) await pipeline(body, throttled(shaping), m.stream, out);
    else await pipeline(body, m.stream, out);
  } catch {
    if (idle) return reply;
    return dropConnection(req, reply); // the client went away; the part is simply not received
  }
  if (idle) return reply;
  if (m.received() !== op.length)
    return storageError(reply, 400, 'IncompleteBody', `Received ${m.received()} of ${op.length} bytes.`);
  internal.received.push(op.partNumber);
  deps.store.save();
  hasher.kick();
  if (drop) return dropConnection(req, reply);
  return reply.code(200).header('etag', `"${m.etag()}"`).send();
}
