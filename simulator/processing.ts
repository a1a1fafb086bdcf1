import { rmSync } from 'node:fs';
import type { Clock } from '../src/core/clock.js';
import type { BinaryFacts } from './records.js';
import { addBuild } from './seed.js';
import type { Rec, Store } from './store.js';
import type { UploadConfig } from './upload-config.js';
import { fileInternal } from './upload-files.js';
import { syncBetaDetail } from './write-helpers.js';

/** Applies the transitions whose time has come: processing uploads finish, processing builds become VALID. */
export function advanceUploads(store: Store, clock: Clock, cfg: UploadConfig): boolean {
  const now = clock.now();
  let changed = false;
  for (const u of store.list('buildUploads')) {
    const until = u.internal?.processUntil;
    if ((u.attributes.state as { state: string }).state !== 'PROCESSING' || until === undefined || until > now)
      continue;
    changed = true;
    finishProcessing(store, u, now, cfg);
  }
  for (const b of store.list('builds')) {
    const validAt = b.internal?.validAt;
    if (b.attributes.processingState !== 'PROCESSING' || validAt === undefined || validAt > now) continue;
    changed = true;
    b.attributes.processingState = 'VALID';
    syncBetaDetail(store, b);
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

/**
 * Apple reads the uploaded binary and fails the upload when it is not the app and version that were
 * declared. Codes as docs/app-store-connect.md maps them: 90167 no app bundle, 90054 bundle identifier,
 * 90055 version strings.
 */
export function binaryProblem(
  u: Rec<'buildUploads'>,
  app: Rec<'apps'>,
  binary: BinaryFacts | undefined,
): [string, string] | undefined {
  if (!binary || binary.kind === 'pkg') return undefined;
  if (binary.error) return ['90167', `No .app bundles found in the package. ${binary.error}`];
  if (binary.bundleId !== app.attributes.bundleId)
    return [
      '90054',
      `Invalid Bundle Identifier. The bundle identifier '${String(binary.bundleId)}' in the binary does not match the app's '${String(app.attributes.bundleId)}'.`,
    ];
  const version = String(u.attributes.cfBundleShortVersionString);
  const build = String(u.attributes.cfBundleVersion);
  if (binary.shortVersion !== version || binary.buildVersion !== build)
    return [
      '90055',
      `Invalid Version. The binary is version '${String(binary.shortVersion)}' build '${String(binary.buildVersion)}', but the upload declared version '${version}' build '${build}'.`,
    ];
  return undefined;
}

function trainProblem(store: Store, u: Rec<'buildUploads'>): [string, string] | undefined {
  const appId = u.rels.app as string;
  const version = String(u.attributes.cfBundleShortVersionString);
  const build = String(u.attributes.cfBundleVersion);
  const platform = String(u.attributes.platform);
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
  if (duplicate)
    return [
      '90189',
      `Redundant Binary Upload. You've already uploaded a build with build number '${build}' for version number '${version}'. Make sure you increment the build string before you upload your app to App Store Connect.`,
    ];
  const closed = store
    .list('appStoreVersions')
    .some(
      (v) =>
        v.rels.app === appId &&
        v.attributes.platform === platform &&
        sameNumber(String(v.attributes.versionString), version) &&
        CLOSED_STATES.has(String(v.attributes.appVersionState)),
    );
  if (closed)
    return ['90186', `Invalid Pre-Release Train. The train version '${version}' is closed for new build submissions`];
  return undefined;
}

function finishProcessing(store: Store, u: Rec<'buildUploads'>, now: number, cfg: UploadConfig): void {
  const app = store.get('apps', u.rels.app as string)!;
  const f = store.get('buildUploadFiles', u.rels.assetFile as string);
  if (f) rmSync(fileInternal(f).dataPath, { force: true });
  const binary = u.internal?.binary;
  const problem = binaryProblem(u, app, binary) ?? trainProblem(store, u);
  if (problem) {
    const errors = [{ code: problem[0], description: problem[1] }];
    u.attributes.state = { state: 'FAILED', errors, warnings: [], infos: [] };
    if (f) f.attributes.assetDeliveryState = { state: 'FAILED', errors, warnings: [] };
    return;
  }
  // ITSAppUsesNonExemptEncryption in the binary settles export compliance for the build.
  const encryption = binary?.usesNonExemptEncryption;
  const buildId = addBuild(
    store,
    app,
    {
      version: String(u.attributes.cfBundleShortVersionString),
      buildNumber: String(u.attributes.cfBundleVersion),
      platform: u.attributes.platform ?? 'IOS',
      processingState: 'PROCESSING',
      uploadedDate: String(u.attributes.uploadedDate ?? new Date(now).toISOString()),
      usesNonExemptEncryption: encryption === null ? undefined : encryption,
    },
    now,
  );
  const b = store.get('builds', buildId)!;
  b.rels.buildUpload = u.id;
  b.internal = { validAt: now + cfg.processingMs };
  u.rels.build = buildId;
  u.attributes.state = { state: 'COMPLETE', errors: [], warnings: [], infos: [] };
  if (f) f.attributes.assetDeliveryState = { state: 'COMPLETE', errors: [], warnings: [] };
}
