import type { AscClient } from '../asc/http/client.js';
import { listBuildUploads } from '../asc/resources/build-uploads.js';
import { listBuilds } from '../asc/resources/builds.js';
import type { Platform } from '../asc/resources/common.js';
import { compareDotted, incrementDotted } from '../core/versions.js';

export interface BuildNumberReport {
  appId: string;
  version: string;
  platform: Platform;
  /** Highest number used by a build or a live upload, or null when the train is empty. */
  highest: string | null;
  next: string;
  /** Every number in use, each with where it was seen. */
  used: { buildNumber: string; source: 'build' | 'buildUpload'; id: string; state: string | undefined }[];
}

/**
 * The next free build number for an app's version train. Processed builds alone are not enough: uploads
 * still in flight are not builds yet but already claim their number (Apple answers 90189 for a repeat), so
 * both are read, and numbers are compared numerically by component, never lexically.
 */
export async function nextBuildNumber(
  client: AscClient,
  appId: string,
  version: string,
  platform: Platform = 'IOS',
): Promise<BuildNumberReport> {
  const [{ builds }, uploads] = await Promise.all([
    listBuilds(client, { appId, version, platform }),
    listBuildUploads(client, appId, { version, platform }),
  ]);
  const used: BuildNumberReport['used'] = [];
  for (const b of builds) {
    if (b.attributes?.version)
      used.push({ buildNumber: b.attributes.version, source: 'build', id: b.id, state: b.attributes.processingState });
  }
  for (const u of uploads) {
    const state = u.attributes?.state?.state;
    // A failed upload never became a build and does not hold its number.
    if (u.attributes?.cfBundleVersion && state !== 'FAILED') {
      used.push({ buildNumber: u.attributes.cfBundleVersion, source: 'buildUpload', id: u.id, state });
    }
  }
  const highest =
    used
      .map((u) => u.buildNumber)
      .sort(compareDotted)
      .at(-1) ?? null;
  return { appId, version, platform, highest, next: highest ? incrementDotted(highest) : '1', used };
}
