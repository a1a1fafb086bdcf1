import type { AscClient } from '../asc/http/client.js';
import { AscApiError } from '../asc/http/errors.js';
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

/**
 * Whether the key may do more than upload. Apple exposes no key's role; Developer keys may upload but are
 * refused TestFlight metadata and App Store changes (fastlane/docs#1050). A read that App Manager and Admin
 * team keys may do and Developer keys may not (`GET /v1/bundleIds`) tells them apart without changing
 * anything, so a deploy stops before its upload instead of failing after it. Individual keys are never
 * allowed that read whatever their role, so they are not judged by it.
 */
export async function assertCanManageBuilds(client: AscClient, individualKey: boolean, needs: string[]): Promise<void> {
  if (individualKey || needs.length === 0) return;
  try {
    await client.request({ method: 'GET', path: '/v1/bundleIds', query: { limit: 1 } });
  } catch (err) {
    if (err instanceof AscApiError && err.status === 403 && !err.isAgreementMissing) {
      throw new AscendError(
        'ASC_FORBIDDEN_ROLE',
        `this key looks like a Developer key (Apple refused a read App Manager keys may do), so it cannot ${needs.join(', ')}`,
        {
          remedy:
            'Use a key with the App Manager (or Admin) role, or upload only with `ascend upload`; nothing was uploaded.',
          cause: err,
        },
      );
    }
    throw err;
  }
}
