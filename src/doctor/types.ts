/** What `ascend doctor` reports. The JSON shape is a contract (DESIGN §3.1); codes are listed in docs/DOCTOR.md. */
export type Severity = 'error' | 'warning';

/**
 * Every finding code, with its severity and what it means. Codes are stable, like the error catalogue's,
 * but are a separate list: a finding is not a failure of the command, it is what the command found.
 */
export const FINDINGS = {
  KEY_REJECTED: {
    severity: 'error',
    about: 'App Store Connect refuses the API key (revoked, deleted, or its Issuer ID is wrong): every request fails.',
  },
  KEY_INDIVIDUAL: {
    severity: 'warning',
    about: 'An individual key cannot use the provisioning API: certificates and profiles cannot be checked or made.',
  },
  KEY_CANNOT_PROVISION: {
    severity: 'warning',
    about: "The key's role may not read certificates and profiles: they were not checked, and signing would fail.",
  },
  AGREEMENT_MISSING: {
    severity: 'error',
    about: 'A required agreement is missing or expired: App Store Connect answers every request with 403.',
  },
  CERTIFICATE_EXPIRED: {
    severity: 'error',
    about: 'A certificate is past its expiration date: nothing can be signed with it.',
  },
  CERTIFICATE_EXPIRING: {
    severity: 'warning',
    about: 'A certificate expires within 30 days.',
  },
  PROFILE_EXPIRED: {
    severity: 'error',
    about: 'A provisioning profile is past its expiration date: builds signed with it are refused.',
  },
  PROFILE_INVALID: {
    severity: 'error',
    about: 'Apple marks a profile INVALID (its certificate was revoked or its App ID changed): it cannot sign.',
  },
  PROFILE_EXPIRING: {
    severity: 'warning',
    about: 'A provisioning profile expires within 30 days.',
  },
  BUILD_EXPIRING: {
    severity: 'warning',
    about: 'A TestFlight build still in a beta group expires within 14 days: testers lose it then.',
  },
  GROUP_BUILD_EXPIRED: {
    severity: 'error',
    about: "The newest build of a beta group has expired: the group's testers have nothing to install.",
  },
  VERSION_REJECTED: {
    severity: 'error',
    about: 'An App Store version was rejected (App Review, metadata or binary) and waits for a fix.',
  },
  VERSION_WAITING_ON_DEVELOPER: {
    severity: 'warning',
    about: 'An App Store version waits for an action of yours (release, export compliance, resubmission).',
  },
  VERSION_STALLED: {
    severity: 'warning',
    about: 'An App Store version has stayed in review or processing for longer than usual.',
  },
} as const satisfies Record<string, { severity: Severity; about: string }>;

export type FindingCode = keyof typeof FINDINGS;

export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** What the finding is about, e.g. `certificate 8UJ2… (Apple Distribution: Team)`. */
  subject: string;
  /** ISO date the thing expires or expired, when it has one. */
  expiresAt?: string;
  /** What breaks and when. */
  message: string;
  fix: string;
}

export const DAY_MS = 86_400_000;

/** How far ahead a finding warns (issue "Never surprised"): certificates and profiles 30 days, builds 14. */
export interface Windows {
  signingDays: number;
  buildDays: number;
}

export const DEFAULT_WINDOWS: Windows = { signingDays: 30, buildDays: 14 };

export function finding(code: FindingCode, f: Omit<Finding, 'code' | 'severity'>): Finding {
  return { code, severity: FINDINGS[code].severity, ...f };
}
