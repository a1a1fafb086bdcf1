import { readFile } from 'node:fs/promises';
import type { ReleaseType } from '../../asc/resources/app-store-versions.js';
import { realSleep, systemClock } from '../../core/clock.js';
import { parseDuration } from '../../core/duration.js';
import { AscendError } from '../../core/errors.js';
import { deploy } from '../../release/deploy.js';
import type { DeployOptions, DeployReport } from '../../release/deploy-types.js';
import { sanitize } from '../io.js';
import type { Runtime } from '../runtime.js';
import { progressFor, withTransfer } from '../session.js';
import { DEFAULT_CONCURRENCY } from './upload.js';

function parseRelease(value: string | undefined): DeployOptions['release'] {
  const v = value ?? 'after-approval';
  if (v === 'manual') return { type: 'MANUAL' };
  if (v === 'after-approval') return { type: 'AFTER_APPROVAL' };
  const m = /^scheduled:(.+)$/.exec(v);
  if (m && !Number.isNaN(Date.parse(m[1]!)))
    return { type: 'SCHEDULED' as ReleaseType, date: new Date(m[1]!).toISOString() };
  throw new AscendError('USAGE', `--release ${v} is not manual, after-approval or scheduled:ISO-DATE`);
}

/** Options as the user gave them, checked before anything is read or sent. */
export async function deployOptions(file: string, opts: Record<string, unknown>): Promise<DeployOptions> {
  const whatsNew = opts.whatsNewFile
    ? await readFile(String(opts.whatsNewFile), 'utf8').catch(() => {
        throw new AscendError('FILE_NOT_FOUND', `--whats-new-file ${String(opts.whatsNewFile)} cannot be read`, {
          remedy: 'Check the path of the "What to Test" text file.',
        });
      })
    : (opts.whatsNew as string | undefined);
  if (opts.whatsNew && opts.whatsNewFile)
    throw new AscendError('USAGE', 'give --whats-new or --whats-new-file, not both');
  const encryption = opts.encryption as string | undefined;
  if (encryption !== undefined && encryption !== 'exempt' && encryption !== 'non-exempt') {
    throw new AscendError('USAGE', `--encryption ${encryption} is not exempt or non-exempt`);
  }
  if (opts.submitReview && !opts.appStore) throw new AscendError('USAGE', '--submit-review needs --app-store');
  const concurrency = Number(opts.concurrency ?? DEFAULT_CONCURRENCY);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new AscendError('USAGE', `--concurrency ${String(opts.concurrency)} is not a whole number from 1 to 64`);
  return {
    file,
    groups: (opts.group as string[] | undefined) ?? [],
    whatsNew: whatsNew?.trim() || undefined,
    locale: String(opts.locale ?? 'en-US'),
    encryption: encryption as DeployOptions['encryption'],
    betaReview: Boolean(opts.betaReview),
    appStore: Boolean(opts.appStore),
    submitReview: Boolean(opts.submitReview),
    release: parseRelease(opts.release as string | undefined),
    phased: Boolean(opts.phased),
    dryRun: Boolean(opts.dryRun),
    concurrency,
    deadline: systemClock.now() + parseDuration(String(opts.timeout ?? '90m')),
  };
}

export function summary(r: DeployReport): string {
  const lines = [
    `${r.dryRun ? 'Plan for' : 'Deployed'} ${r.app.bundleId} ${r.version} (${r.buildNumber}) ${r.platform}${r.dryRun ? ' — dry run, nothing was changed' : r.changed ? '' : ' — already up to date, nothing changed'}`,
    ...r.steps.map((s) => `  ${s.status.padEnd(8)} ${s.step.padEnd(13)} ${sanitize(s.detail)}`),
  ];
  if (r.build) lines.push(`build ${r.build.id} ${r.build.processingState}`);
  if (r.betaGroups.length)
    lines.push(`groups ${r.betaGroups.map((g) => `${g.name}${g.isInternalGroup ? ' (internal)' : ''}`).join(', ')}`);
  if (r.betaAppReviewSubmission)
    lines.push(`beta review ${r.betaAppReviewSubmission.id} ${r.betaAppReviewSubmission.betaReviewState}`);
  if (r.appStoreVersion)
    lines.push(
      `App Store version ${r.appStoreVersion.versionString} ${r.appStoreVersion.id} (${r.appStoreVersion.releaseType})`,
    );
  if (r.reviewSubmission) lines.push(`review submission ${r.reviewSubmission.id} ${r.reviewSubmission.state}`);
  return lines.join('\n');
}

export async function run(rt: Runtime, args: unknown[], opts: Record<string, unknown>): Promise<number> {
  const options = await deployOptions(String(args[0]), opts);
  const client = await rt.client();
  const individualKey = (await rt.key()).issuerId === undefined;
  const progress = progressFor(rt);
  const report = await withTransfer(rt, options.concurrency, ({ transport, signal, state }) =>
    deploy(
      { ...options, extraTrustedRoots: rt.config.extraTrustedRoots },
      {
        client,
        individualKey,
        state,
        clock: systemClock,
        sleep: realSleep,
        random: Math.random,
        transport,
        signal,
        onEvent: (e) => {
          if (e.type === 'progress') progress.progress(e.sent, e.total);
          else if (e.type === 'step') progress.note(`${e.step} ${e.status}`, e.detail);
          else progress.note(e.text);
        },
      },
    ),
  );
  if (rt.config.json) rt.out.json(report);
  else rt.out.print(summary(report));
  return 0;
}
