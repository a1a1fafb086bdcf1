import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { inspectIpa } from '../src/ipa/inspect.js';
import { conflict } from './errors.js';
import { FileHasher, type PartSpan } from './hasher.js';
import { sign } from './part-signing.js';
import { mustGet } from './reads.js';
import type { BinaryFacts, FileInternal } from './records.js';
import type { Rec } from './store.js';
import type { UploadConfig } from './upload-config.js';
import { created, ok, type Schemas, visibleRel, type WriteHandler } from './write-helpers.js';

/** A reserved file's bookkeeping (every buildUploadFiles record has it). */
export function fileInternal(file: Rec): FileInternal {
  const f = file.internal?.file;
  if (!f) throw new Error(`buildUploadFiles ${file.id} has no data file`);
  return f;
}

/** The in-memory hasher of a file, made on first use (after a restart it starts from the first part). */
export function hasherOf(cfg: UploadConfig, file: Rec): FileHasher {
  let h = cfg.hashers.get(file.id);
  if (!h) {
    const internal = fileInternal(file);
    h = new FileHasher(internal.dataPath, file.attributes.uploadOperations as PartSpan[], (p) =>
      internal.received.includes(p),
    );
    cfg.hashers.set(file.id, h);
  }
  return h;
}

const SLOTS = { ASSET: 'assetFile', ASSET_DESCRIPTION: 'assetDescriptionFile', ASSET_SPI: 'assetSpiFile' } as const;

/**
 * `POST /v1/buildUploadFiles`: reserves the file and hands out pre-signed part URLs that tile it.
 * https://developer.apple.com/documentation/appstoreconnectapi/post-v1-builduploadfiles
 */
export function reserveFile(cfg: UploadConfig): WriteHandler<Schemas['BuildUploadFileCreateRequest']> {
  return (ctx) => {
    const attrs = ctx.body.data.attributes;
    const upload = visibleRel(ctx, 'buildUploads', 'buildUpload', ctx.body.data.relationships.buildUpload.data.id);
    if ((upload.attributes.state as { state: string }).state !== 'AWAITING_UPLOAD') {
      throw conflict('STATE_ERROR', 'Files can only be added to a build upload that is awaiting upload');
    }
    const slot = SLOTS[attrs.assetType];
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
    mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
    const dataPath = join(cfg.dataDir, `${id}.bin`);
    closeSync(openSync(dataPath, 'w', 0o600));
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
    const rec = ctx.store.insert({
      type: 'buildUploadFiles',
      id,
      teamId: upload.teamId,
      attributes: {
        ...attrs,
        assetToken: randomBytes(12).toString('hex'),
        assetDeliveryState: { state: 'AWAITING_UPLOAD', errors: [], warnings: [] },
        // Not null (the schema does not allow it): no digest is known before the commit.
        sourceFileChecksums: {},
        uploadOperations: ops,
      },
      rels: { buildUpload: upload.id },
      internal: { file: internal },
    });
    upload.rels[slot] = id;
    return created(ctx, rec);
  };
}

/** Reads what processing compares with the declared upload; never throws (a bad binary fails processing). */
async function readBinary(path: string): Promise<BinaryFacts> {
  try {
    const facts = await inspectIpa(path);
    const app = facts.app;
    if (facts.kind === 'ipa' && !app) return { ...EMPTY, error: 'No .app bundle was found in the package' };
    return {
      kind: facts.kind,
      bundleId: app?.bundleId ?? null,
      shortVersion: app?.shortVersion ?? null,
      buildVersion: app?.buildVersion ?? null,
      usesNonExemptEncryption: app?.usesNonExemptEncryption ?? null,
    };
  } catch (err) {
    return { ...EMPTY, error: (err as Error).message.split('\n')[0] };
  }
}
const EMPTY: BinaryFacts = {
  kind: 'ipa',
  bundleId: null,
  shortVersion: null,
  buildVersion: null,
  usesNonExemptEncryption: null,
};

type Checksums = NonNullable<Schemas['BuildUploadFileUpdateRequest']['data']['attributes']>['sourceFileChecksums'];

/** The checksum rules of the commit: refused outright when so configured, else it must match the bytes. */
async function checkChecksum(cfg: UploadConfig, file: Rec, sums: Checksums | undefined): Promise<void> {
  if (!sums) return;
  if (cfg.refuseChecksums) {
    // The answer one live report shows for a SHA_256 checksum (botiverse/hands#199).
    throw conflict(
      'ENTITY_ERROR.ATTRIBUTE.INVALID',
      `'${JSON.stringify(sums)}' is not a valid value for the attribute 'sourceFileChecksums'.`,
      '/data/attributes/sourceFileChecksums',
    );
  }
  const sum = sums.file;
  if (!sum?.hash) return;
  const actual = await hasherOf(cfg, file).digest(sum.algorithm === 'SHA_256' ? 'sha256' : 'md5');
  if (actual !== sum.hash.toLowerCase()) {
    throw conflict(
      'ENTITY_ERROR.ATTRIBUTE.INVALID',
      `The ${String(sum.algorithm)} checksum does not match the uploaded data`,
      '/data/attributes/sourceFileChecksums',
    );
  }
}

/**
 * `PATCH /v1/buildUploadFiles/{id}` with `uploaded: true`: every part must have arrived and the checksum
 * must match the bytes received (Apple's asset-upload rules); a mismatch is a 409 and nothing changes.
 * Once committed no part can be sent again. The digests were computed as the parts arrived, so the answer
 * is immediate; the binary's Info.plist is read here for processing to compare with the declared upload.
 * https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-builduploadfiles-_id_
 */
export function commitFile(cfg: UploadConfig): WriteHandler<Schemas['BuildUploadFileUpdateRequest']> {
  return async (ctx) => {
    const file = mustGet(ctx, 'buildUploadFiles', ctx.pathParams[0]!);
    const internal = fileInternal(file);
    const attrs = ctx.body.data.attributes ?? {};
    if (attrs.uploaded !== true) return ok(ctx, file);
    if (internal.committed) throw conflict('STATE_ERROR', 'This file was already committed');
    // The simulator restarted with another data folder: the bytes are gone, the client must start over.
    if (!existsSync(internal.dataPath))
      throw conflict('STATE_ERROR', 'The uploaded bytes are no longer available; delete this upload and start again');
    const ops = file.attributes.uploadOperations as PartSpan[];
    const missing = ops.filter((o) => !internal.received.includes(o.partNumber)).map((o) => o.partNumber);
    if (missing.length)
      throw conflict(
        'STATE_ERROR.UPLOAD_INCOMPLETE',
        `Parts ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''} were not received`,
      );
    await checkChecksum(cfg, file, attrs.sourceFileChecksums ?? undefined);
    const upload = ctx.store.get('buildUploads', file.rels.buildUpload as string)!;
    const binary = file.attributes.assetType === 'ASSET' ? await readBinary(internal.dataPath) : undefined;
    const md5 = await hasherOf(cfg, file).digest('md5');
    internal.committed = true;
    cfg.hashers.delete(file.id);
    // Without a checksum from the client, the digest of what arrived (the schema allows no null).
    file.attributes.sourceFileChecksums = attrs.sourceFileChecksums ?? { file: { hash: md5, algorithm: 'MD5' } };
    file.attributes.assetDeliveryState = { state: 'UPLOAD_COMPLETE', errors: [], warnings: [] };
    if (binary) {
      upload.attributes.state = { state: 'PROCESSING', errors: [], warnings: [], infos: [] };
      upload.attributes.uploadedDate = new Date(ctx.clock.now()).toISOString();
      upload.internal = { ...upload.internal, processUntil: ctx.clock.now() + cfg.processingMs, binary };
    }
    return ok(ctx, file);
  };
}
