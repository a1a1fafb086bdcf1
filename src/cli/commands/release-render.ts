import type { DeployReport, StepOutputs } from '../../release/deploy-types.js';
import type { RunEvent } from '../../release/pipeline.js';
import { sanitize } from '../io.js';
import type { Runtime } from '../runtime.js';
import type { Progress } from '../session.js';

/** Live lines for a pipeline's events: each step once, when it ends, with its status and detail. */
export function renderEvents(progress: Progress): (e: RunEvent) => void {
  return (e) => {
    if (e.type === 'progress') progress.progress(e.sent, e.total, { sending: e.sending });
    else if (e.type === 'step') progress.note(`${e.step} ${e.status}`, sanitize(e.detail));
    else if (e.type === 'note') progress.note(sanitize(e.text));
  };
}

/**
 * The closing summary. The steps were already shown live on stderr as they ended, so they are repeated
 * only with --quiet (a terminal showed each step twice before).
 */
export function summary(r: DeployReport, withSteps: boolean): string {
  const lines = [
    `${r.dryRun ? 'Plan for' : 'Deployed'} ${r.app.bundleId} ${r.version} (${r.buildNumber}) ${r.platform}${r.dryRun ? ' — dry run, nothing was changed' : r.changed ? '' : ' — already up to date, nothing changed'}`,
    ...(withSteps ? r.steps.map((s) => `  ${s.status.padEnd(8)} ${s.step.padEnd(13)} ${s.detail}`) : []),
  ];
  if (r.awaiting) lines.push(`waiting for approval before ${r.awaiting}`);
  if (r.build) lines.push(`build ${r.build.id} ${r.build.processingState}`);
  if (r.betaGroups.length)
    lines.push(
      `TestFlight groups ${r.betaGroups.map((g) => `${g.name}${g.isInternalGroup ? ' (internal)' : ''}`).join(', ')}`,
    );
  if (r.betaAppReviewSubmission)
    lines.push(`TestFlight beta review ${r.betaAppReviewSubmission.id} ${r.betaAppReviewSubmission.betaReviewState}`);
  if (r.appStoreVersion)
    lines.push(
      `App Store version ${r.appStoreVersion.versionString} ${r.appStoreVersion.id} (${r.appStoreVersion.releaseType})`,
    );
  if (r.reviewSubmission) lines.push(`App Review submission ${r.reviewSubmission.id} ${r.reviewSubmission.state}`);
  // Bundle IDs, versions and group names come from the file or from Apple: no escape sequences reach the terminal.
  return lines.map(sanitize).join('\n');
}

export function renderReport(rt: Runtime, report: DeployReport): void {
  if (rt.config.json) rt.out.json(report);
  else rt.out.print(summary(report, rt.config.quiet));
}

/** `ascend upload`'s result: the upload, its file's MD5 and the build, in Apple's attribute names. */
export function renderUpload(rt: Runtime, out: Partial<StepOutputs>): void {
  const [local, up] = [out.preflight!, out.upload!];
  const u = up.upload;
  const doc = {
    app: { id: out.resolveApp?.id, bundleId: local.bundleId },
    version: local.version,
    buildNumber: local.buildNumber,
    platform: local.platform,
    buildUpload: u && { id: u.id, state: u.state, resumed: u.resumed, warnings: u.warnings },
    file: u && { id: u.fileId, md5: u.md5 },
    build: up.build && { id: up.build.id },
  };
  const what = sanitize(`${local.bundleId} ${local.version} (${local.buildNumber})`);
  if (rt.config.json) rt.out.json(doc);
  else if (!u) rt.out.print(`${what} is already on App Store Connect: build ${up.build?.id}`);
  else if (up.build) rt.out.print(`uploaded ${what}: build ${up.build.id}, upload ${u.id} ${u.state}`);
  else rt.out.print(`uploaded ${what}: upload ${u.id} is processing (not waiting)`);
}
