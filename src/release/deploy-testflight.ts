import {
  createBetaAppReviewSubmission,
  listBetaAppReviewSubmissions,
} from '../asc/resources/beta-app-review-submissions.js';
import {
  createBetaBuildLocalization,
  listBetaBuildLocalizations,
  updateBetaBuildLocalization,
} from '../asc/resources/beta-build-localizations.js';
import { addBuildToGroups, type Build, buildGroupIds, setUsesNonExemptEncryption } from '../asc/resources/builds.js';
import type { DeployContext } from './deploy.js';
import { wanted } from './deploy-plan.js';
import { idempotentWrite, writeOnce } from './reconcile.js';

/** Export compliance, "What to Test", beta groups and (only when asked or needed) external beta review. */
export async function testflightSteps(ctx: DeployContext, build: Build): Promise<void> {
  await complianceStep(ctx, build);
  if (wanted(ctx, 'whatsNew')) await whatsNewStep(ctx, build);
  else ctx.record('whatsNew', 'skipped', 'no --whats-new given');
  if (wanted(ctx, 'groups')) await groupsStep(ctx, build);
  else ctx.record('groups', 'skipped', 'no --group given');
  if (wanted(ctx, 'betaReview')) await betaReviewStep(ctx, build);
  else ctx.record('betaReview', 'skipped', 'internal groups only: no beta review needed');
}

async function complianceStep(ctx: DeployContext, build: Build): Promise<void> {
  const current = build.attributes?.usesNonExemptEncryption;
  if (current !== undefined && current !== null) {
    ctx.record('compliance', 'already', `export compliance answered: usesNonExemptEncryption=${current}`);
    return;
  }
  if (ctx.opts.dryRun) {
    ctx.record('compliance', 'planned', `would set usesNonExemptEncryption=${ctx.usesNonExemptEncryption}`);
    return;
  }
  // A PATCH of one attribute to one value: sending it again after a lost answer changes nothing.
  await idempotentWrite(() => setUsesNonExemptEncryption(ctx.deps.client, build.id, ctx.usesNonExemptEncryption));
  if (ctx.report.build) ctx.report.build.usesNonExemptEncryption = ctx.usesNonExemptEncryption;
  ctx.record('compliance', 'done', `set usesNonExemptEncryption=${ctx.usesNonExemptEncryption}`);
}

async function whatsNewStep(ctx: DeployContext, build: Build): Promise<void> {
  const { client } = ctx.deps;
  const text = ctx.opts.whatsNew!;
  const locale = ctx.opts.locale;
  const find = async () =>
    (await listBetaBuildLocalizations(client, build.id)).find((l) => l.attributes?.locale === locale);
  const existing = await find();
  if (existing && existing.attributes?.whatsNew === text) {
    ctx.report.whatsNew = { id: existing.id, locale };
    ctx.record('whatsNew', 'already', `"What to Test" (${locale}) is already set`);
    return;
  }
  if (ctx.opts.dryRun) {
    ctx.record('whatsNew', 'planned', `would ${existing ? 'update' : 'create'} "What to Test" (${locale})`);
    return;
  }
  const loc = existing
    ? await idempotentWrite(() => updateBetaBuildLocalization(client, existing.id, text))
    : await writeOnce(() => createBetaBuildLocalization(client, build.id, locale, text), find);
  ctx.report.whatsNew = { id: loc.id, locale };
  ctx.record('whatsNew', 'done', `${existing ? 'updated' : 'created'} "What to Test" (${locale})`);
}

async function groupsStep(ctx: DeployContext, build: Build): Promise<void> {
  const current = new Set(await buildGroupIds(ctx.deps.client, build.id));
  const missing = ctx.report.betaGroups.filter((g) => !current.has(g.id));
  if (!missing.length) {
    ctx.record('groups', 'already', `already in ${ctx.report.betaGroups.map((g) => g.name).join(', ')}`);
    return;
  }
  if (ctx.opts.dryRun) {
    ctx.record('groups', 'planned', `would add to ${missing.map((g) => g.name).join(', ')}`);
    return;
  }
  // Adding a linkage that exists already is a no-op at Apple, so this write is safe to repeat.
  await idempotentWrite(() =>
    addBuildToGroups(
      ctx.deps.client,
      build.id,
      missing.map((g) => g.id),
    ),
  );
  ctx.record('groups', 'done', `added to ${missing.map((g) => g.name).join(', ')}`);
}

async function betaReviewStep(ctx: DeployContext, build: Build): Promise<void> {
  const { client } = ctx.deps;
  const find = async () => (await listBetaAppReviewSubmissions(client, build.id))[0];
  const existing = await find();
  if (existing) {
    ctx.report.betaAppReviewSubmission = {
      id: existing.id,
      betaReviewState: existing.attributes?.betaReviewState ?? 'WAITING_FOR_REVIEW',
    };
    ctx.record('betaReview', 'already', `beta review already requested (${existing.attributes?.betaReviewState})`);
    return;
  }
  if (ctx.opts.dryRun) {
    ctx.record('betaReview', 'planned', 'would submit the build for external beta review');
    return;
  }
  const sub = await writeOnce(() => createBetaAppReviewSubmission(client, build.id), find);
  ctx.report.betaAppReviewSubmission = {
    id: sub.id,
    betaReviewState: sub.attributes?.betaReviewState ?? 'WAITING_FOR_REVIEW',
  };
  ctx.record('betaReview', 'done', 'submitted for external beta review');
}
