import type { ReleaseType } from '../asc/resources/app-store-versions.js';
import type { Platform } from '../asc/resources/common.js';
import type { Finding, IpaFacts } from '../ipa/types.js';

export interface DeployOptions {
  file: string;
  groups: string[];
  whatsNew?: string;
  locale: string;
  encryption?: 'exempt' | 'non-exempt';
  betaReview: boolean;
  appStore: boolean;
  submitReview: boolean;
  release: { type: ReleaseType; date?: string };
  phased: boolean;
  dryRun: boolean;
  concurrency: number;
  /** Epoch ms by which the whole deploy must be done. */
  deadline: number;
  /** Individual keys cannot be judged by the role probe (see remotePreflight). */
  individualKey?: boolean;
  /** `ascend upload`: the pipeline ends with the upload, so export compliance and the key's role are not asked. */
  uploadOnly?: boolean;
  /** `ascend upload --no-wait`: stop once the file is committed, before Apple has processed it. */
  noWait?: boolean;
  /** SHA-256 fingerprints of roots trusted for profile signatures besides Apple's (src/ipa/trust.ts). */
  extraTrustedRoots?: readonly string[];
}

/** What a step would change, as data; plan-text.ts turns it into words in one place. */
export type Action =
  | { kind: 'upload'; file: string; bytes: number; version: string; buildNumber: string }
  | { kind: 'waitUpload'; uploadId: string }
  | { kind: 'waitProcessing'; buildId: string | null }
  | { kind: 'setCompliance'; usesNonExemptEncryption: boolean }
  | { kind: 'setWhatsNew'; locale: string; existingId: string | null }
  | { kind: 'addToGroups'; groups: { id: string; name: string }[] }
  | { kind: 'submitBetaReview' }
  | { kind: 'createVersion'; version: string; releaseType: ReleaseType; date?: string }
  | { kind: 'setRelease'; releaseType: ReleaseType; date?: string }
  | { kind: 'attachBuild'; buildId: string | null }
  | { kind: 'createPhasedRelease' }
  | { kind: 'createReviewSubmission' }
  | { kind: 'reuseReviewSubmission'; id: string }
  | { kind: 'addVersionToSubmission'; version: string }
  | { kind: 'submitForReview'; version: string };

/** The local facts every later step builds on. */
export interface LocalFacts {
  file: string;
  bytes: number;
  bundleId: string;
  version: string;
  buildNumber: string;
  platform: Platform;
  /** The export-compliance answer: from Info.plist, else from --encryption. */
  usesNonExemptEncryption: boolean;
  /** Whether Info.plist itself answers it (then Apple sets it on the build). */
  plistAnswers: boolean;
  /** Local errors, reported together with the remote blockers. */
  blockers: Finding[];
}

export interface GroupRef {
  id: string;
  name: string;
  isInternalGroup: boolean;
}

/** A build number already in use by this very binary: its build, or its upload still processing. */
export interface OwnBuild {
  buildId: string | null;
  uploadId: string | null;
  /** Our own interrupted upload, which upload-build.ts resumes from its saved state. */
  resume?: boolean;
  /** This file's MD5, when it was read to recognise the build (saved with the upload step's output). */
  md5?: string;
}

/** The file a build was made from: a later run trusts that build only for the very same file. */
export interface SourceFile {
  bytes: number;
  md5: string;
}

export interface BuildRef {
  id: string;
  processingState: string;
  usesNonExemptEncryption: boolean | null;
}

export interface UploadRef {
  id: string;
  state: string;
  fileId: string;
  md5: string;
  resumed: boolean;
  warnings: { code: string; description: string }[];
}

/** Each step's output, by step name (the order of a full deploy). */
export interface StepOutputs {
  inspect: IpaFacts;
  preflight: LocalFacts;
  /** null: no app record with this bundle ID (a blocker reported by remotePreflight). */
  resolveApp: { id: string; bundleId: string } | null;
  remotePreflight: { appId: string; groups: GroupRef[]; own: OwnBuild };
  /** build: null in a dry run before the first upload, or with --no-wait. */
  /** source: the file the build came from, when its MD5 is known (absent in older saved runs). */
  upload: { build: BuildRef | null; upload: UploadRef | null; source?: SourceFile };
  process: BuildRef | null;
  compliance: { usesNonExemptEncryption: boolean };
  whatsNew: { id: string; locale: string } | null;
  groups: GroupRef[];
  betaReview: { id: string; betaReviewState: string } | null;
  appStore: {
    id: string;
    versionString: string;
    releaseType: string;
    appVersionState: string;
    phasedRelease: { id: string; phasedReleaseState: string } | null;
  } | null;
  submitReview: { id: string; state: string } | null;
}

export interface DeployStepReport {
  step: string;
  status: string;
  detail: string;
}

export interface DeployReport {
  dryRun: boolean;
  changed: boolean;
  /** The step held for approval (see RunOptions.beforeApply), or null. */
  awaiting: string | null;
  app: { id: string; bundleId: string };
  version: string;
  buildNumber: string;
  platform: Platform;
  build: BuildRef | null;
  buildUpload: UploadRef | null;
  betaGroups: GroupRef[];
  whatsNew: { id: string; locale: string } | null;
  betaAppReviewSubmission: { id: string; betaReviewState: string } | null;
  appStoreVersion: { id: string; versionString: string; releaseType: string; appVersionState: string } | null;
  phasedRelease: { id: string; phasedReleaseState: string } | null;
  reviewSubmission: { id: string; state: string } | null;
  steps: DeployStepReport[];
}
