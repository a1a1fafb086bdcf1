import type { DoctorFacts } from '../facts.js';
import { DEFAULT_WINDOWS, type Finding, type Windows } from '../types.js';
import { checkAgreements } from './agreements.js';
import { checkBuilds } from './builds.js';
import { checkCertificates } from './certificates.js';
import { checkKey } from './key.js';
import { checkProfiles } from './profiles.js';
import { checkVersions } from './versions.js';

/** Every check over the gathered facts: errors first, then what expires soonest. */
export function runChecks(facts: DoctorFacts, windows: Windows = DEFAULT_WINDOWS): Finding[] {
  const { now } = facts;
  const findings = [
    ...checkKey(facts.key),
    ...checkAgreements(facts.key),
    ...checkCertificates(facts.certificates ?? [], now, windows.signingDays),
    ...checkProfiles(facts.profiles ?? [], now, windows.signingDays),
    ...checkBuilds(facts.builds, now, windows.buildDays),
    ...checkVersions(facts.versions, now),
  ];
  const rank = (f: Finding) => (f.severity === 'error' ? 0 : 1);
  const at = (f: Finding) => (f.expiresAt ? Date.parse(f.expiresAt) : Number.POSITIVE_INFINITY);
  return findings.sort((a, b) => rank(a) - rank(b) || at(a) - at(b) || a.code.localeCompare(b.code));
}
