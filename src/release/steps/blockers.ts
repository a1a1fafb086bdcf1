import { AscendError, type ErrorCode } from '../../core/errors.js';
import type { Finding } from '../../ipa/types.js';

/** Finding codes that have an error code of their own; any other local error is PREFLIGHT_FAILED. */
const ERROR_FOR: Record<string, ErrorCode> = {
  APP_RECORD_MISSING: 'APP_NOT_FOUND',
  BUILD_NUMBER_USED: 'BUILD_NUMBER_USED',
  BUILD_NUMBER_IN_FLIGHT: 'BUILD_NUMBER_USED',
  VERSION_TRAIN_CLOSED: 'VERSION_TRAIN_CLOSED',
  VERSION_NOT_HIGHER: 'VERSION_TRAIN_CLOSED',
  ENCRYPTION_UNANSWERED: 'ENCRYPTION_UNANSWERED',
  GROUP_NOT_FOUND: 'GROUP_NOT_FOUND',
  ASC_FORBIDDEN_ROLE: 'ASC_FORBIDDEN_ROLE',
  APP_STORE_VERSION_OPEN: 'APP_STORE_VERSION_OPEN',
  REVIEW_IN_PROGRESS: 'REVIEW_IN_PROGRESS',
};

export const errorCodeOf = (f: Finding): ErrorCode => ERROR_FOR[f.code] ?? 'PREFLIGHT_FAILED';

/**
 * Every blocker in one error: each with its own fix, the exit code of the first (local problems come
 * first, then the app, the key, the groups, the build number and train, the App Store). One blocker keeps
 * its own message and remedy.
 */
export function blockedError(blockers: Finding[]): AscendError {
  const first = blockers[0]!;
  // Local findings share PREFLIGHT_FAILED, so each keeps its own check code in the text.
  const text = (b: Finding) => (ERROR_FOR[b.code] ? b.message : `${b.code}: ${b.message}`);
  if (blockers.length === 1)
    return new AscendError(errorCodeOf(first), text(first), { remedy: first.fix, details: { findings: blockers } });
  const list = blockers.map((b, i) => `(${i + 1}) ${text(b)} [${errorCodeOf(b)}]: ${b.fix}`).join(' ');
  return new AscendError(errorCodeOf(first), `${blockers.length} problems stop this deploy: ${list}`, {
    remedy: 'Fix each problem listed (each names its fix), then run again; nothing was changed.',
    details: { findings: blockers },
  });
}
