import type { Action } from './deploy-types.js';

/** The words for one action, as intent ("add … to …") and as a fact ("added … to …"). */
function words(a: Action): [string, string] {
  switch (a.kind) {
    case 'upload': {
      const what = `${a.file} (${(a.bytes / 1e6).toFixed(1)} MB) as ${a.version} (${a.buildNumber})`;
      return [`upload ${what}`, `uploaded ${what}`];
    }
    case 'waitUpload':
      return [`wait for upload ${a.uploadId} to finish processing`, `waited for upload ${a.uploadId}`];
    case 'waitProcessing': {
      const b = a.buildId ? `build ${a.buildId}` : 'the build';
      return [`wait for ${b} to be processed (VALID)`, `${b} is VALID`];
    }
    case 'setCompliance':
      return [
        `set usesNonExemptEncryption=${a.usesNonExemptEncryption}`,
        `set usesNonExemptEncryption=${a.usesNonExemptEncryption}`,
      ];
    case 'setWhatsNew': {
      const verb = a.existingId ? 'update' : 'create';
      return [`${verb} "What to Test" (${a.locale})`, `${verb}d "What to Test" (${a.locale})`];
    }
    case 'addToGroups': {
      const names = a.groups.map((g) => g.name).join(', ');
      return [`add the build to ${names}`, `added to ${names}`];
    }
    case 'submitBetaReview':
      return ['submit the build for external beta review', 'submitted for external beta review'];
    case 'createVersion': {
      const v = `App Store version ${a.version} (${a.releaseType}${a.date ? ` ${a.date}` : ''})`;
      return [`create ${v}`, `created ${v}`];
    }
    case 'setRelease':
      return [`set release ${a.releaseType}`, `set release ${a.releaseType}`];
    case 'attachBuild': {
      const b = a.buildId ? `build ${a.buildId}` : 'the build';
      return [`attach ${b}`, `attached ${b}`];
    }
    case 'createPhasedRelease':
      return ['create a phased release', 'created a phased release'];
    case 'createReviewSubmission':
      return ['create a review submission', 'created a review submission'];
    case 'reuseReviewSubmission':
      return [`reuse review submission ${a.id}`, `reused review submission ${a.id}`];
    case 'addVersionToSubmission':
      return [`add version ${a.version} to it`, `added version ${a.version}`];
    case 'submitForReview':
      return [`submit version ${a.version} for App Review`, `submitted version ${a.version} for App Review`];
  }
}

/**
 * The one place plan text is made: a dry run prints `would …`, a real run what it did. The server and the
 * CLI both show these lines.
 */
export function describeActions(actions: Action[], tense: 'plan' | 'done'): string {
  const parts = actions.map((a) => words(a)[tense === 'plan' ? 0 : 1]);
  return tense === 'plan' ? `would ${parts.join(', ')}` : parts.join(', ');
}
