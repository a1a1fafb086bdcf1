import { AscendError, CATALOGUE } from '../../core/errors.js';
import { inspectIpa } from '../../ipa/inspect.js';
import { preflight } from '../../ipa/preflight.js';
import type { Finding, IpaFacts } from '../../ipa/types.js';
import type { LocalFacts } from '../deploy-types.js';
import { defineStep } from '../pipeline.js';
import { blockedError } from './blockers.js';

/** Reads the archive: Info.plist, profiles, size. Nothing is sent anywhere. */
export const inspectStep = defineStep({
  name: 'inspect',
  check: true,
  input: ({ opts }) => ({ file: opts.file, extraTrustedRoots: opts.extraTrustedRoots }),
  read: async (input: { file: string; extraTrustedRoots?: readonly string[] }, env) => {
    if (!env.openSource) return inspectIpa(input.file, { extraTrustedRoots: input.extraTrustedRoots });
    const source = await env.openSource(input.file);
    try {
      return await inspectIpa(input.file, { extraTrustedRoots: input.extraTrustedRoots, source });
    } finally {
      await source.close();
    }
  },
  plan: (_input, facts: IpaFacts) => ({
    actions: [],
    output: facts,
    found: `${facts.kind} ${facts.app?.bundleId ?? '?'} ${facts.app?.shortVersion ?? '?'} (${facts.app?.buildVersion ?? '?'}), ${(facts.size / 1e6).toFixed(1)} MB`,
  }),
  apply: () => Promise.reject(new Error('inspect has nothing to apply')),
});

interface PreflightInput {
  facts: IpaFacts;
  encryption: 'exempt' | 'non-exempt' | undefined;
  /** A deploy must answer export compliance; a bare upload need not. */
  compliance: boolean;
}

/**
 * The local checks. Errors that leave nothing to check remotely (not an .ipa, no bundle ID or version)
 * stop here; the others are passed on, so one run lists them together with the remote blockers.
 */
export const preflightStep = defineStep({
  name: 'preflight',
  check: true,
  input: ({ opts, out }): PreflightInput => ({
    facts: need(out.inspect, 'inspect'),
    encryption: opts.encryption,
    compliance: !opts.uploadOnly,
  }),
  read: async (input: PreflightInput, env) => {
    const findings = preflight(input.facts, { now: new Date(env.clock.now()), target: 'app-store' });
    for (const w of findings.filter((f) => f.severity === 'warning'))
      if (w.code !== 'ENCRYPTION_UNANSWERED')
        env.emit({ type: 'note', text: `warning ${w.code}: ${w.message} — ${w.fix}` });
    return findings;
  },
  plan: (input, findings: Finding[]) => {
    const local = localFacts(input, findings);
    return {
      actions: [],
      output: local,
      found: local.blockers.length ? `${local.blockers.length} local problems` : 'no local problems',
    };
  },
  apply: () => Promise.reject(new Error('preflight has nothing to apply')),
});

function localFacts({ facts, encryption, compliance }: PreflightInput, findings: Finding[]): LocalFacts {
  if (facts.kind === 'pkg')
    throw new AscendError('USAGE', `${facts.file} is a macOS .pkg; uploading .pkg files is not supported yet`, {
      remedy: 'Upload an .ipa (iOS, tvOS, visionOS).',
    });
  const errors = findings.filter((f) => f.severity === 'error');
  const app = facts.app;
  if (!app?.bundleId || !app.shortVersion || !app.buildVersion)
    throw blockedError(errors.length ? errors : [noApp(facts)]);
  const plistAnswer = app.usesNonExemptEncryption;
  const flagAnswer = encryption === undefined ? null : encryption === 'non-exempt';
  if (plistAnswer !== null && flagAnswer !== null && plistAnswer !== flagAnswer) {
    throw new AscendError(
      'USAGE',
      `--encryption ${encryption} contradicts ITSAppUsesNonExemptEncryption=${plistAnswer} in Info.plist`,
      { remedy: 'Drop --encryption (Info.plist already answers) or fix Info.plist.' },
    );
  }
  if (compliance && plistAnswer === null && flagAnswer === null) {
    errors.push({
      code: 'ENCRYPTION_UNANSWERED',
      severity: 'error',
      message: `${facts.file} does not say whether it uses non-exempt encryption, and --encryption was not given`,
      fix: CATALOGUE.ENCRYPTION_UNANSWERED.remedy,
    });
  }
  return {
    file: facts.file,
    bytes: facts.size,
    bundleId: app.bundleId,
    version: app.shortVersion,
    buildNumber: app.buildVersion,
    platform: facts.platform ?? 'IOS',
    usesNonExemptEncryption: plistAnswer ?? flagAnswer ?? false,
    plistAnswers: plistAnswer !== null,
    blockers: errors,
  };
}

const noApp = (facts: IpaFacts): Finding => ({
  code: 'IPA_NO_APP',
  severity: 'error',
  message: `${facts.file} names no bundle ID, version and build number`,
  fix: CATALOGUE.IPA_NO_APP.remedy,
});

/** An earlier step's output; its absence is a bug in how the pipeline was put together. */
export function need<T>(value: T | undefined, step: string): T {
  if (value === undefined) throw new Error(`pipeline order: ${step} must run first`);
  return value;
}
