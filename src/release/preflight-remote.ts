import type { AscClient } from '../asc/http/client.js';
import { CLOSED_VERSION_STATES, listAppStoreVersions } from '../asc/resources/app-store-versions.js';
import type { App } from '../asc/resources/apps.js';
import { listBuildUploads } from '../asc/resources/build-uploads.js';
import { listBuilds } from '../asc/resources/builds.js';
import type { Platform } from '../asc/resources/common.js';
import { AscendError, type ErrorCode } from '../core/errors.js';
import { compareDotted } from '../core/versions.js';
import { type RemoteState, remotePreflight } from '../ipa/preflight.js';
import type { Finding, IpaFacts } from '../ipa/types.js';

/** Reads what the remote checks need: builds and live uploads of the train, and the App Store versions. */
export async function gatherRemoteState(
  client: AscClient,
  app: App,
  version: string,
  platform: Platform,
): Promise<RemoteState> {
  const [{ builds }, uploads, versions] = await Promise.all([
    listBuilds(client, { appId: app.id, version, platform }),
    listBuildUploads(client, app.id, { version, platform }),
    listAppStoreVersions(client, app.id, { platform }),
  ]);
  const live = versions
    .filter((v) => v.attributes?.appVersionState === 'READY_FOR_DISTRIBUTION')
    .map((v) => v.attributes?.versionString ?? '');
  return {
    app: { id: app.id, bundleId: app.attributes?.bundleId ?? '' },
    builds: builds.map((b) => b.attributes?.version ?? '').filter(Boolean),
    // AWAITING_UPLOAD uploads hold no number yet: they are resumed or cleaned up, never a conflict.
    uploadsInFlight: uploads
      .filter((u) => u.attributes?.state?.state === 'PROCESSING' || u.attributes?.state?.state === 'COMPLETE')
      .map((u) => u.attributes?.cfBundleVersion ?? ''),
    closedVersions: versions
      .filter((v) => CLOSED_VERSION_STATES.has(String(v.attributes?.appVersionState)))
      .map((v) => v.attributes?.versionString ?? ''),
    liveVersion: live.sort(compareDotted).at(-1) ?? null,
  };
}

const ERROR_FOR: Record<string, ErrorCode> = {
  APP_RECORD_MISSING: 'APP_NOT_FOUND',
  BUILD_NUMBER_USED: 'BUILD_NUMBER_USED',
  BUILD_NUMBER_IN_FLIGHT: 'BUILD_NUMBER_USED',
  VERSION_TRAIN_CLOSED: 'VERSION_TRAIN_CLOSED',
  VERSION_NOT_HIGHER: 'VERSION_TRAIN_CLOSED',
};

/** Runs the remote checks and throws the first error as a typed error (exit 4 or 5), before anything is created. */
export function assertRemotePreflight(facts: IpaFacts, remote: RemoteState): Finding[] {
  const findings = remotePreflight(facts, remote);
  const first = findings.find((f) => f.severity === 'error');
  if (first)
    throw new AscendError(ERROR_FOR[first.code] ?? 'PREFLIGHT_FAILED', first.message, {
      remedy: first.fix,
      details: { findings },
    });
  return findings;
}
