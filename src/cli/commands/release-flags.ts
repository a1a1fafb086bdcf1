import { readFile } from 'node:fs/promises';
import { Command, Option } from '@commander-js/extra-typings';
import { parseDuration } from '../../core/duration.js';
import { AscendError } from '../../core/errors.js';

/**
 * The flags of `ascend upload` and `ascend deploy`, declared once: main.ts adds these commands and the
 * commands receive commander's inferred option types. Only commander is loaded here, so `--help` stays quick.
 */

/**
 * Measured in bench/RESULTS.md: 12 parts in flight filled 86–92 % of a link whose connections are capped at a
 * tenth of it, 16 fill 99 %, and memory does not grow with it (read buffers are pooled, bounded by a budget).
 */
export const DEFAULT_CONCURRENCY = 16;

function concurrency(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new AscendError('USAGE', `--concurrency ${v} is not a whole number from 1 to 64`);
  return n;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export const uploadCommand = () =>
  new Command('upload')
    .description('check, upload and wait for one build (Build Upload API; resumable)')
    .argument('<file>', '.ipa to upload')
    .option('--concurrency <n>', 'parts sent in parallel', concurrency, DEFAULT_CONCURRENCY)
    .option('--no-wait', 'return once the file is committed, without waiting for processing')
    .option('--timeout <duration>', 'deadline for the whole command, e.g. 30m', '60m');

export const deployCommand = () =>
  new Command('deploy')
    .description('upload a build and take it to TestFlight groups and, if asked, App Review (idempotent, resumable)')
    .argument('<file>', '.ipa to deploy')
    .option('--testflight', 'distribute in TestFlight (the default)')
    .option('--group <name>', 'beta group to add the build to (repeatable)', collect)
    .option('--whats-new <text>', '"What to Test" text')
    .option('--whats-new-file <file>', '"What to Test" text from a file')
    .option('--locale <locale>', 'locale of the "What to Test" text', 'en-US')
    .addOption(
      new Option('--encryption <answer>', 'export compliance answer when Info.plist lacks one').choices([
        'exempt',
        'non-exempt',
      ] as const),
    )
    .option('--beta-review', 'submit for external beta review (automatic for an external group)')
    .option('--app-store', 'create or reuse the App Store version and attach the build')
    .option('--submit-review', 'submit the App Store version for App Review (with --app-store)')
    .option('--release <type>', 'with --app-store: manual | after-approval (default) | scheduled:ISO-DATE')
    .option('--phased', 'with --app-store: phased release over 7 days')
    .option('--dry-run', 'check everything and print the plan; change nothing')
    .option('--concurrency <n>', 'upload parts sent in parallel', concurrency, DEFAULT_CONCURRENCY)
    .option('--timeout <duration>', 'deadline for the whole deploy, e.g. 90m', '90m');

export type UploadFlags = ReturnType<ReturnType<typeof uploadCommand>['opts']>;
export type DeployFlags = ReturnType<ReturnType<typeof deployCommand>['opts']>;

type Release = { type: 'MANUAL' | 'AFTER_APPROVAL' | 'SCHEDULED'; date?: string };

function parseRelease(v: string): Release {
  if (v === 'manual') return { type: 'MANUAL' };
  if (v === 'after-approval') return { type: 'AFTER_APPROVAL' };
  const m = /^scheduled:(.+)$/.exec(v);
  if (m && !Number.isNaN(Date.parse(m[1]!))) return { type: 'SCHEDULED', date: new Date(m[1]!).toISOString() };
  throw new AscendError('USAGE', `--release ${v} is not manual, after-approval or scheduled:ISO-DATE`);
}

/** Flags that only mean something with another flag are refused rather than silently ignored. */
function requireAppStore(f: DeployFlags): void {
  const lone = [f.submitReview && '--submit-review', f.release && '--release', f.phased && '--phased'].filter(Boolean);
  if (lone.length && !f.appStore)
    throw new AscendError('USAGE', `${lone.join(', ')} ${lone.length > 1 ? 'need' : 'needs'} --app-store`, {
      remedy: `Add --app-store to prepare the App Store version, or drop ${lone.join(', ')}.`,
    });
}

/** The deploy's options as the user gave them, checked before anything is read or sent. */
export async function deployOptions(file: string, f: DeployFlags, now: number) {
  if (f.whatsNew && f.whatsNewFile) throw new AscendError('USAGE', 'give --whats-new or --whats-new-file, not both');
  requireAppStore(f);
  const whatsNew = f.whatsNewFile
    ? await readFile(f.whatsNewFile, 'utf8').catch(() => {
        throw new AscendError('FILE_NOT_FOUND', `--whats-new-file ${f.whatsNewFile} cannot be read`, {
          remedy: 'Check the path of the "What to Test" text file.',
        });
      })
    : f.whatsNew;
  return {
    file,
    groups: f.group ?? [],
    whatsNew: whatsNew?.trim() || undefined,
    locale: f.locale,
    encryption: f.encryption,
    betaReview: Boolean(f.betaReview),
    appStore: Boolean(f.appStore),
    submitReview: Boolean(f.submitReview),
    release: parseRelease(f.release ?? 'after-approval'),
    phased: Boolean(f.phased),
    dryRun: Boolean(f.dryRun),
    concurrency: f.concurrency,
    deadline: now + parseDuration(f.timeout),
  };
}

/** `ascend upload` is the deploy pipeline cut after the upload step: the same options, nothing else asked. */
export function uploadOptions(file: string, f: UploadFlags, now: number) {
  return {
    file,
    groups: [],
    locale: 'en-US',
    betaReview: false,
    appStore: false,
    submitReview: false,
    release: { type: 'AFTER_APPROVAL' as const },
    phased: false,
    dryRun: false,
    concurrency: f.concurrency,
    deadline: now + parseDuration(f.timeout),
    uploadOnly: true,
    noWait: !f.wait,
  };
}

/** What `ascend demo` deploys: both TestFlight groups (external beta review), then the App Store and App Review. */
export function demoOptions(file: string, now: number) {
  return {
    file,
    groups: ['Internal Testers', 'External Testers'],
    whatsNew: 'Try the new onboarding flow.',
    locale: 'en-US',
    betaReview: false,
    appStore: true,
    submitReview: true,
    release: { type: 'AFTER_APPROVAL' as const },
    phased: true,
    dryRun: false,
    concurrency: 4,
    deadline: now + 5 * 60_000,
  };
}

/** The demo's closing hints. After `npm ci` the command is not on PATH, so they name ./bin/ascend. */
export function demoOutro(requests: number, tokens: number): string {
  return [
    '',
    `That was the real deploy pipeline (TestFlight groups, beta review, App Store version, App Review) against a simulator (${requests} API requests, ${tokens} token).`,
    'With your own key (App Store Connect → Users and Access → Integrations → "+", App Manager):',
    '  ./bin/ascend keys add --name my-team --key-id <KEY ID> --issuer-id <ISSUER ID> --private-key AuthKey_<KEY ID>.p8',
    '  ./bin/ascend keys check',
    '  ./bin/ascend deploy MyApp.ipa --group "Internal Testers" --whats-new "What to test" --dry-run',
    'Or keep a simulator running: ./bin/ascend simulator start --port 0 --write-key k.json',
    '(After `npm link` or a global install, plain `ascend` works too.)',
  ].join('\n');
}
