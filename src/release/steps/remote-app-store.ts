import type { AscClient } from '../../asc/http/client.js';
import type { AppStoreVersion } from '../../asc/resources/app-store-versions.js';
import { listReviewSubmissionItems, type ReviewSubmission } from '../../asc/resources/review-submissions.js';
import { CATALOGUE } from '../../core/errors.js';
import type { Finding } from '../../ipa/types.js';

/** States in which a version occupies the platform's one open slot (Apple answers 409 to a second create). */
const EDITABLE = ['PREPARE_FOR_SUBMISSION', 'DEVELOPER_REJECTED', 'REJECTED', 'METADATA_REJECTED', 'INVALID_BINARY'];
const UNDER_REVIEW = ['READY_FOR_REVIEW', 'WAITING_FOR_REVIEW', 'IN_REVIEW', 'WAITING_FOR_EXPORT_COMPLIANCE'];
export const SUBMISSION_IN_PROGRESS = new Set(['WAITING_FOR_REVIEW', 'IN_REVIEW', 'COMPLETING', 'CANCELING']);

/**
 * `POST /v1/appStoreVersions` is refused (409) while another version of the platform is being prepared or
 * reviewed; that used to surface only after the upload and the TestFlight steps. Here it is named before
 * anything is created, with how to clear it. No blocker when this version exists already (it is reused).
 */
export function appStoreBlockers(version: string, versions: AppStoreVersion[]): Finding[] {
  if (versions.some((v) => v.attributes?.versionString === version)) return [];
  return versions.flatMap((v): Finding[] => {
    const state = String(v.attributes?.appVersionState);
    const other = v.attributes?.versionString ?? v.id;
    if (!EDITABLE.includes(state) && !UNDER_REVIEW.includes(state)) return [];
    return [
      {
        code: 'APP_STORE_VERSION_OPEN',
        severity: 'error',
        message: `App Store version ${other} is ${state}, and Apple keeps one version open per platform, so version ${version} cannot be created`,
        fix: EDITABLE.includes(state)
          ? `Deploy this build as ${other} (set MARKETING_VERSION to ${other}), or delete version ${other} in App Store Connect (the app → App Store → ${other} → Remove Version), then run again.`
          : `Wait until App Review is done with ${other}, or remove it from review in App Store Connect (the app → App Store → ${other} → Remove from Review), then run again.`,
      },
    ];
  });
}

/** A review submission in progress that is not this version's: Apple allows one at a time. */
export async function reviewBlockers(
  client: AscClient,
  version: string,
  versions: AppStoreVersion[],
  reviews: ReviewSubmission[],
): Promise<Finding[]> {
  const ours = versions.find((v) => v.attributes?.versionString === version)?.id;
  const out: Finding[] = [];
  for (const s of reviews.filter((x) => SUBMISSION_IN_PROGRESS.has(String(x.attributes?.state)))) {
    const items = await listReviewSubmissionItems(client, s.id);
    if (ours && items.some((i) => i.relationships?.appStoreVersion?.data?.id === ours)) continue;
    out.push({
      code: 'REVIEW_IN_PROGRESS',
      severity: 'error',
      message: `review submission ${s.id} is ${s.attributes?.state} for this app; Apple allows one at a time`,
      fix: CATALOGUE.REVIEW_IN_PROGRESS.remedy,
    });
  }
  return out;
}
