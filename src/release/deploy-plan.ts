import type { DeployContext } from './deploy.js';

/** Whether the options ask for a step at all. */
export function wanted(ctx: DeployContext, step: string): boolean {
  const o = ctx.opts;
  if (step === 'whatsNew') return Boolean(o.whatsNew);
  if (step === 'groups') return o.groups.length > 0;
  if (step === 'betaReview') return o.betaReview || ctx.report.betaGroups.some((g) => !g.isInternalGroup);
  if (step === 'appStore') return o.appStore;
  if (step === 'submitReview') return o.appStore && o.submitReview;
  return true;
}

export function planText(ctx: DeployContext, step: string): string {
  const o = ctx.opts;
  switch (step) {
    case 'process':
      return 'would wait for the build to be processed (VALID)';
    case 'compliance':
      return `would answer export compliance: usesNonExemptEncryption=${ctx.usesNonExemptEncryption} (unless Apple already has it from Info.plist)`;
    case 'whatsNew':
      return `would set "What to Test" (${o.locale})`;
    case 'groups':
      return `would add the build to ${ctx.report.betaGroups.map((g) => g.name).join(', ')}`;
    case 'betaReview':
      return 'would submit the build for external beta review';
    case 'appStore':
      return `would create or reuse App Store version ${ctx.report.version}, release ${o.release.type}${o.phased ? ', phased' : ''}, and attach the build`;
    default:
      return 'would create or reuse a review submission and submit it for App Review';
  }
}
