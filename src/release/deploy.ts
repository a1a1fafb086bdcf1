import type { AscClient } from '../asc/http/client.js';
import { type App, resolveApp } from '../asc/resources/apps.js';
import { listBetaGroups } from '../asc/resources/beta-groups.js';
import { getBuildUploadFile } from '../asc/resources/build-upload-files.js';
import { getBuildUpload, listBuildUploads } from '../asc/resources/build-uploads.js';
import { type Build, getBuild } from '../asc/resources/builds.js';
import type { Clock, Random, Sleep } from '../core/clock.js';
import { AscendError } from '../core/errors.js';
import type { StateStore } from '../core/state.js';
import { compareDotted } from '../core/versions.js';
import { fileChecksums, inspectIpa } from '../ipa/inspect.js';
import { preflight } from '../ipa/preflight.js';
import type { IpaFacts } from '../ipa/types.js';
import type { PartTransport } from '../upload/engine.js';
import { appStoreSteps } from './deploy-appstore.js';
import { planText, wanted } from './deploy-plan.js';
import { testflightSteps } from './deploy-testflight.js';
import type { DeployEvent, DeployOptions, DeployReport, StepStatus } from './deploy-types.js';
import { assertCanManageBuilds, assertRemotePreflight, gatherRemoteState } from './preflight-remote.js';
import { uploadBuild, waitForUpload } from './upload-build.js';
import { waitForBuild } from './wait-build.js';

export interface DeployDeps {
  client: AscClient;
  state: StateStore;
  clock: Clock;
  sleep: Sleep;
  random: Random;
  transport: PartTransport;
  onEvent?: (e: DeployEvent) => void;
  signal?: AbortSignal;
  /** Individual keys cannot be judged by the role probe (see assertCanManageBuilds). */
  individualKey?: boolean;
}

/** Shared by the steps: the report being built and a way to record each step's outcome. */
export interface DeployContext {
  opts: DeployOptions;
  deps: DeployDeps;
  facts: IpaFacts;
  app: App;
  report: DeployReport;
  record: (step: string, status: StepStatus, detail: string) => void;
  /** The export-compliance answer: from Info.plist, else from --encryption. */
  usesNonExemptEncryption: boolean;
}

interface SavedDeploy {
  buildId?: string;
  uploadId?: string;
}

/**
 * `ascend deploy`: named, idempotent steps — each reads App Store Connect first and changes only what is
 * missing — from local checks to App Review. A re-run after success changes nothing; a re-run after a crash
 * continues; `dryRun` performs every check and reports the plan without a single write.
 */
export async function deploy(opts: DeployOptions, deps: DeployDeps): Promise<DeployReport> {
  const facts = await inspectIpa(opts.file, { extraTrustedRoots: opts.extraTrustedRoots });
  const errors = preflight(facts, { now: new Date(deps.clock.now()), target: 'app-store' }).filter(
    (f) => f.severity === 'error',
  );
  if (errors.length) {
    throw new AscendError('PREFLIGHT_FAILED', errors.map((e) => `${e.code}: ${e.message}`).join('; '), {
      remedy: errors[0]!.fix,
      details: { findings: errors },
    });
  }
  if (facts.kind !== 'ipa' || !facts.app)
    throw new AscendError('USAGE', `${opts.file} is not an .ipa`, { remedy: 'Deploy an .ipa (iOS, tvOS, visionOS).' });
  const plistAnswer = facts.app.usesNonExemptEncryption;
  const flagAnswer = opts.encryption === undefined ? null : opts.encryption === 'non-exempt';
  if (plistAnswer === null && flagAnswer === null) {
    throw new AscendError(
      'ENCRYPTION_UNANSWERED',
      `${opts.file} does not say whether it uses non-exempt encryption, and --encryption was not given`,
    );
  }
  if (plistAnswer !== null && flagAnswer !== null && plistAnswer !== flagAnswer) {
    throw new AscendError(
      'USAGE',
      `--encryption ${opts.encryption} contradicts ITSAppUsesNonExemptEncryption=${plistAnswer} in Info.plist`,
      {
        remedy: 'Drop --encryption (Info.plist already answers) or fix Info.plist.',
      },
    );
  }
  const bundleId = facts.app.bundleId!;
  const version = facts.app.shortVersion!;
  const buildNumber = facts.app.buildVersion!;
  const platform = facts.platform ?? 'IOS';
  const { client } = deps;
  const app = await resolveApp(client, bundleId);

  const report: DeployReport = {
    dryRun: opts.dryRun,
    changed: false,
    app: { id: app.id, bundleId },
    version,
    buildNumber,
    platform,
    build: null,
    buildUpload: null,
    betaGroups: [],
    whatsNew: null,
    betaAppReviewSubmission: null,
    appStoreVersion: null,
    phasedRelease: null,
    reviewSubmission: null,
    steps: [],
  };
  const record = (step: string, status: StepStatus, detail: string) => {
    report.steps.push({ step, status, detail });
    if (status === 'done') report.changed = true;
    deps.onEvent?.({ type: 'step', step, status, detail });
  };
  const ctx: DeployContext = {
    opts,
    deps,
    facts,
    app,
    report,
    record,
    usesNonExemptEncryption: (plistAnswer ?? flagAnswer)!,
  };

  // Group names are checked before anything is uploaded: a typo must not cost an upload.
  const groups = await listBetaGroups(client, { appId: app.id });
  const unknown = opts.groups.filter((n) => !groups.some((g) => g.attributes?.name === n));
  if (unknown.length) {
    throw new AscendError(
      'GROUP_NOT_FOUND',
      `no beta group named ${unknown.map((n) => `"${n}"`).join(', ')} in ${bundleId}; its groups are: ${groups.map((g) => `"${g.attributes?.name}"`).join(', ') || 'none'}`,
    );
  }
  report.betaGroups = opts.groups.map((n) => {
    const g = groups.find((x) => x.attributes?.name === n)!;
    return { id: g.id, name: n, isInternalGroup: Boolean(g.attributes?.isInternalGroup) };
  });

  // The key's role is checked before the upload, for the steps that need more than uploading.
  const needs = [
    plistAnswer === null ? 'answer export compliance' : '',
    opts.whatsNew ? 'set "What to Test"' : '',
    opts.groups.length ? 'add builds to beta groups' : '',
    opts.appStore ? 'prepare the App Store version' : '',
  ].filter(Boolean);
  await assertCanManageBuilds(client, Boolean(deps.individualKey), needs);

  const build = await uploadStep(ctx, { bundleId, version, buildNumber, platform });
  if (build) {
    const ready = await processStep(ctx, build);
    await testflightSteps(ctx, ready);
    await appStoreSteps(ctx, ready);
  } else {
    // Dry run before the first upload: nothing exists to read yet, so the plan is what the options ask for.
    for (const s of ['process', 'compliance', 'whatsNew', 'groups', 'betaReview', 'appStore', 'submitReview']) {
      if (wanted(ctx, s)) record(s, 'planned', planText(ctx, s));
    }
  }
  return report;
}

async function md5Of(file: string): Promise<string> {
  return (await fileChecksums(file)).md5;
}

/**
 * Uploads the build unless App Store Connect already has this exact binary: a build number in use is ours
 * when the saved state says so, or when the completed upload's checksum equals this file's MD5.
 */
async function uploadStep(
  ctx: DeployContext,
  id: { bundleId: string; version: string; buildNumber: string; platform: IpaFacts['platform'] & {} },
): Promise<Build | undefined> {
  const { client, state } = ctx.deps;
  const key = `deploy-${ctx.app.id}-${id.platform}-${id.version}-${id.buildNumber}`;
  const saved = (await state.get<SavedDeploy>(key)) ?? {};
  const sameNumber = (n?: string) => compareDotted(n ?? '', id.buildNumber) === 0;
  let existing: Build | undefined;
  if (saved.buildId) existing = (await getBuild(client, saved.buildId).catch(() => undefined))?.data;
  if (!existing) {
    const uploadInFlight = await state.get(`upload-${ctx.app.id}-${id.platform}-${id.version}-${id.buildNumber}`);
    if (!uploadInFlight) {
      const remote = await gatherRemoteState(client, ctx.app, id.version, id.platform);
      const taken = remote.builds.some(sameNumber) || remote.uploadsInFlight.some(sameNumber);
      if (taken) existing = await findOwnBuild(ctx, id);
      // A number taken by another binary stops here with exit 5 and the fix.
      if (!existing) assertRemotePreflight(ctx.facts, remote);
    }
  }
  if (existing) {
    ctx.report.build = {
      id: existing.id,
      processingState: existing.attributes?.processingState ?? 'PROCESSING',
      usesNonExemptEncryption: existing.attributes?.usesNonExemptEncryption ?? null,
    };
    ctx.record(
      'upload',
      'already',
      `build ${id.version} (${id.buildNumber}) is already on App Store Connect (${existing.id})`,
    );
    await state.put(key, { ...saved, buildId: existing.id });
    return existing;
  }
  if (ctx.opts.dryRun) {
    ctx.record(
      'upload',
      'planned',
      `would upload ${ctx.facts.file} (${(ctx.facts.size / 1e6).toFixed(1)} MB) as ${id.version} (${id.buildNumber})`,
    );
    return undefined;
  }
  const result = await uploadBuild(
    {
      file: ctx.opts.file,
      appId: ctx.app.id,
      platform: id.platform,
      version: id.version,
      buildNumber: id.buildNumber,
      concurrency: ctx.opts.concurrency,
      wait: true,
      deadline: ctx.opts.deadline,
    },
    {
      client,
      state,
      clock: ctx.deps.clock,
      sleep: ctx.deps.sleep,
      random: ctx.deps.random,
      transport: ctx.deps.transport,
      signal: ctx.deps.signal,
      onEvent: (e) => {
        if (e.type === 'progress') ctx.deps.onEvent?.(e);
        else if (e.type === 'step' && e.step !== 'done')
          ctx.deps.onEvent?.({ type: 'note', text: `upload: ${e.step}${e.detail ? ` (${e.detail})` : ''}` });
      },
    },
  );
  if (!result.buildId) throw new AscendError('UPLOAD_REJECTED', `upload ${result.uploadId} completed without a build`);
  await state.put(key, { buildId: result.buildId, uploadId: result.uploadId });
  ctx.report.buildUpload = { id: result.uploadId };
  ctx.record(
    'upload',
    'done',
    `uploaded ${id.version} (${id.buildNumber}), MD5 ${result.md5}${result.resumed ? ', resumed' : ''}`,
  );
  const b = (await getBuild(client, result.buildId)).data;
  ctx.report.build = {
    id: b.id,
    processingState: b.attributes?.processingState ?? 'PROCESSING',
    usesNonExemptEncryption: b.attributes?.usesNonExemptEncryption ?? null,
  };
  return b;
}

/** The build of this version and number if it came from this very file (its upload's MD5 matches). */
async function findOwnBuild(
  ctx: DeployContext,
  id: { version: string; buildNumber: string; platform: IpaFacts['platform'] & {} },
): Promise<Build | undefined> {
  const { client } = ctx.deps;
  const uploads = (await listBuildUploads(client, ctx.app.id, { version: id.version, platform: id.platform })).filter(
    (u) =>
      compareDotted(u.attributes?.cfBundleVersion ?? '', id.buildNumber) === 0 &&
      u.attributes?.state?.state !== 'FAILED',
  );
  if (!uploads.length) return undefined;
  const md5 = await md5Of(ctx.opts.file);
  for (const u of uploads) {
    const full = await getBuildUpload(client, u.id, ['build', 'assetFile']);
    const fileId = full.data.relationships?.assetFile?.data?.id;
    const hash = fileId
      ? (await getBuildUploadFile(client, fileId)).attributes?.sourceFileChecksums?.file?.hash
      : undefined;
    if (hash?.toLowerCase() !== md5) continue;
    const buildId = full.data.relationships?.build?.data?.id;
    if (buildId) return (await getBuild(client, buildId)).data;
    // Ours, still processing: wait for it like the upload step would.
    const done = await waitForUpload(client, u.id, {
      deadline: ctx.opts.deadline,
      clock: ctx.deps.clock,
      sleep: ctx.deps.sleep,
      signal: ctx.deps.signal,
    });
    const id = done.relationships?.build?.data?.id;
    if (id) return (await getBuild(client, id)).data;
  }
  return undefined;
}

/** Waits until Apple has processed the build (see waitForBuild); in a dry run only reports that it would. */
export async function processStep(ctx: DeployContext, build: Build): Promise<Build> {
  const wasValid = build.attributes?.processingState === 'VALID';
  if (!wasValid && ctx.opts.dryRun) {
    ctx.record('process', 'planned', `would wait for build ${build.id} to finish processing`);
    return build;
  }
  const b = wasValid
    ? build
    : await waitForBuild(ctx.deps.client, build.id, {
        deadline: ctx.opts.deadline,
        clock: ctx.deps.clock,
        sleep: ctx.deps.sleep,
        signal: ctx.deps.signal,
      });
  ctx.report.build = {
    id: b.id,
    processingState: 'VALID',
    usesNonExemptEncryption: b.attributes?.usesNonExemptEncryption ?? null,
  };
  ctx.record('process', wasValid ? 'already' : 'done', `build ${b.id} is VALID`);
  return b;
}
