import type { ReleaseType } from '../asc/resources/app-store-versions.js';
import type { Platform } from '../asc/resources/common.js';

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
  /** SHA-256 fingerprints of roots trusted for profile signatures besides Apple's (src/ipa/trust.ts). */
  extraTrustedRoots?: readonly string[];
}

export type StepStatus = 'done' | 'already' | 'skipped' | 'planned';

export interface StepReport {
  step: string;
  status: StepStatus;
  detail: string;
}

export interface DeployReport {
  dryRun: boolean;
  changed: boolean;
  app: { id: string; bundleId: string };
  version: string;
  buildNumber: string;
  platform: Platform;
  build: { id: string; processingState: string; usesNonExemptEncryption: boolean | null } | null;
  buildUpload: { id: string } | null;
  betaGroups: { id: string; name: string; isInternalGroup: boolean }[];
  whatsNew: { id: string; locale: string } | null;
  betaAppReviewSubmission: { id: string; betaReviewState: string } | null;
  appStoreVersion: { id: string; versionString: string; releaseType: string; appVersionState: string } | null;
  phasedRelease: { id: string; phasedReleaseState: string } | null;
  reviewSubmission: { id: string; state: string } | null;
  steps: StepReport[];
}

export type DeployEvent =
  | { type: 'step'; step: string; status: StepStatus; detail: string }
  | { type: 'progress'; sent: number; total: number }
  | { type: 'note'; text: string };
