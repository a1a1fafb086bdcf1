import type { VersionFacts } from '../facts.js';
import { DAY_MS, type Finding, finding } from '../types.js';
import { dateOf } from '../when.js';

const RESOLUTION = 'Read Apple’s message in App Store Connect → the app → App Review (Resolution Center)';

/** States that wait for the developer, with what to do. */
const WAITING: Record<string, { what: string; fix: string }> = {
  PENDING_DEVELOPER_RELEASE: {
    what: 'is approved and waits for you to release it',
    fix: 'Release it in App Store Connect → the app → the version → Release This Version, or leave it until you want it out.',
  },
  WAITING_FOR_EXPORT_COMPLIANCE: {
    what: 'waits for the export compliance answer of its build',
    fix: 'Answer export compliance for the build (`ascend deploy FILE --encryption exempt|non-exempt`, or in App Store Connect → TestFlight).',
  },
  DEVELOPER_REJECTED: {
    what: 'was withdrawn from review and is not submitted',
    fix: 'Submit it again (`ascend deploy FILE --app-store --submit-review`) or remove it in App Store Connect.',
  },
};

const REJECTED: Record<string, string> = {
  REJECTED: 'was rejected by App Review',
  METADATA_REJECTED: 'had its metadata rejected by App Review',
  INVALID_BINARY: 'has a build Apple found invalid',
};

/** States that end on Apple's side; a version still in one long after it was made is worth a look. */
const STALL_DAYS: Record<string, number> = {
  WAITING_FOR_REVIEW: 30,
  IN_REVIEW: 30,
  PROCESSING_FOR_DISTRIBUTION: 7,
};

/**
 * App Store versions stuck in a state. Apple exposes no date of the last state change, only `createdDate`,
 * so "stalled" is measured from when the version was made, and says so.
 */
export function checkVersions(versions: VersionFacts[], now: number): Finding[] {
  const out: Finding[] = [];
  for (const v of versions) {
    const subject = `App Store version ${v.versionString} (${v.platform}) of ${v.app}`;
    const rejected = REJECTED[v.state];
    const waiting = WAITING[v.state];
    if (rejected) {
      out.push(
        finding('VERSION_REJECTED', {
          subject,
          message: `The version ${rejected} (${v.state}); it cannot be released until a fixed version is submitted.`,
          fix: `${RESOLUTION}, fix what it names, then submit again (\`ascend deploy FILE --app-store --submit-review\`).`,
        }),
      );
    } else if (waiting) {
      out.push(
        finding('VERSION_WAITING_ON_DEVELOPER', {
          subject,
          message: `The version ${waiting.what} (${v.state}).`,
          fix: waiting.fix,
        }),
      );
    } else if (STALL_DAYS[v.state] !== undefined) {
      const created = dateOf(v.createdDate);
      if (created === undefined) continue;
      const days = Math.floor((now - created) / DAY_MS);
      if (days < STALL_DAYS[v.state]!) continue;
      out.push(
        finding('VERSION_STALLED', {
          subject,
          message: `The version was created ${days} days ago and is still ${v.state}; review and processing usually take days, not weeks.`,
          fix: 'Check its status in App Store Connect; if nothing moves, contact App Review (developer.apple.com/contact/app-store).',
        }),
      );
    }
  }
  return out;
}
