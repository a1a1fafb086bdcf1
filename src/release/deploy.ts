import { resolve } from 'node:path';
import type { DeployOptions, DeployReport } from './deploy-types.js';
import { type AnyStep, type RunEvent, type RunOptions, type RunReport, runPipeline, type StepEnv } from './pipeline.js';
import { appStoreStep } from './steps/app-store.js';
import { inspectStep, preflightStep } from './steps/local.js';
import { remotePreflightStep, resolveAppStep } from './steps/remote.js';
import { submitReviewStep } from './steps/review.js';
import { betaReviewStep, complianceStep, groupsStep, whatsNewStep } from './steps/testflight.js';
import { processStep, uploadStep } from './steps/upload.js';

/** `ascend upload`: the checks, then the upload (and, unless --no-wait, until Apple has made the build). */
export const UPLOAD_STEPS: readonly AnyStep[] = [
  inspectStep,
  preflightStep,
  resolveAppStep,
  remotePreflightStep,
  uploadStep,
];

/** `ascend deploy`: the upload's steps, then TestFlight and, when asked, the App Store and App Review. */
export const DEPLOY_STEPS: readonly AnyStep[] = [
  ...UPLOAD_STEPS,
  processStep,
  complianceStep,
  whatsNewStep,
  groupsStep,
  betaReviewStep,
  appStoreStep,
  submitReviewStep,
];

/** The checks show in the events; the report lists what was changed, found or planned at Apple. */
const CHECKS = new Set(['inspect', 'preflight', 'resolveApp', 'remotePreflight']);

export interface DeployDeps extends Omit<StepEnv, 'emit' | 'deadline'> {
  onEvent?: (e: RunEvent) => void;
  beforeApply?: RunOptions['beforeApply'];
  /** The deploy's id (the server's); by default one per file, so running the same command again resumes. */
  id?: string;
}

export async function runRelease(steps: readonly AnyStep[], opts: DeployOptions, deps: DeployDeps): Promise<RunReport> {
  const { onEvent, beforeApply, id, ...env } = deps;
  return runPipeline(steps, opts, {
    id: id ?? resolve(opts.file),
    env: { ...env, deadline: opts.deadline },
    onEvent,
    beforeApply,
  });
}

/**
 * `ascend deploy`: each step reads App Store Connect first and changes only what is missing, from the local
 * checks to App Review. A re-run after success changes nothing; a re-run after a crash continues;
 * `dryRun` performs every check and reports the plan without a single write.
 */
export async function deploy(opts: DeployOptions, deps: DeployDeps): Promise<DeployReport> {
  return deployReport(await runRelease(DEPLOY_STEPS, opts, deps));
}

/** The report in Apple's attribute names (DESIGN §3.1), from the steps' outputs. */
export function deployReport(r: RunReport): DeployReport {
  const { out } = r;
  const local = out.preflight!;
  const build = out.process ?? out.upload?.build ?? null;
  const v = out.appStore ?? null;
  return {
    dryRun: r.dryRun,
    changed: r.changed,
    awaiting: r.awaiting,
    app: { id: out.resolveApp?.id ?? '', bundleId: local.bundleId },
    version: local.version,
    buildNumber: local.buildNumber,
    platform: local.platform,
    build: build && {
      ...build,
      usesNonExemptEncryption: out.compliance?.usesNonExemptEncryption ?? build.usesNonExemptEncryption,
    },
    buildUpload: out.upload?.upload ?? null,
    betaGroups: out.remotePreflight?.groups ?? [],
    whatsNew: out.whatsNew ?? null,
    betaAppReviewSubmission: out.betaReview ?? null,
    appStoreVersion: v && {
      id: v.id,
      versionString: v.versionString,
      releaseType: v.releaseType,
      appVersionState: v.appVersionState,
    },
    phasedRelease: v?.phasedRelease ?? null,
    reviewSubmission: out.submitReview ?? null,
    steps: r.steps.filter((s) => !CHECKS.has(s.step)).map(({ step, status, detail }) => ({ step, status, detail })),
  };
}
