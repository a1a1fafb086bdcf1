import { escapeControl, quoteForLine } from '../core/text.js';
import { compareDotted } from '../core/versions.js';
import type { ProfileFacts } from './profile.js';
import { profileCovers } from './profile.js';
import type { BundleFacts, Finding, IpaFacts } from './types.js';

/**
 * The preflight checks, each with a stable code (listed in docs/ERRORS.md), a one-line message and the fix.
 * Errors stop an upload before anything is created remotely; warnings are shown and let it go on.
 */
export const CHECKS = {
  INFO_PLIST_MISSING: 'The bundle has no readable Info.plist; rebuild and export the app again.',
  BUNDLE_ID_MISSING: 'Set PRODUCT_BUNDLE_IDENTIFIER in the target’s build settings.',
  BUNDLE_ID_INVALID: 'Bundle IDs use letters, digits, "-" and "." only (e.g. com.example.app).',
  SHORT_VERSION_INVALID: 'Set MARKETING_VERSION to one to three integers of at most 18 digits each, e.g. 1.4.0.',
  BUILD_VERSION_INVALID: 'Set CURRENT_PROJECT_VERSION to one to three integers of at most 18 digits each, e.g. 57.',
  MINIMUM_OS_MISSING: 'Set the deployment target (IPHONEOS_DEPLOYMENT_TARGET) so Xcode writes MinimumOSVersion.',
  EXECUTABLE_MISSING: 'The binary named by CFBundleExecutable is not in the bundle; rebuild the app.',
  SIMULATOR_BUILD: 'This is a Simulator build; archive for "Any iOS Device (arm64)" instead.',
  EXTENSION_BUNDLE_ID_PREFIX: 'Give the extension a bundle ID that starts with the app’s, e.g. <app id>.share.',
  EXTENSION_VERSION_MISMATCH: 'Give extensions the same CFBundleShortVersionString and CFBundleVersion as the app.',
  DUPLICATE_BUNDLE_ID: 'Each bundle in the app needs its own bundle ID.',
  PROFILE_MISSING: 'Sign the app for App Store distribution so embedded.mobileprovision is included.',
  PROFILE_UNREADABLE: 'Download the provisioning profile again and re-sign, or export the archive again.',
  PROFILE_NOT_APP_STORE:
    'Sign with an App Store distribution profile (Xcode: Distribute App → App Store Connect); In-House, ad hoc and development profiles are refused.',
  PROFILE_UNTRUSTED_SIGNER:
    'Use the profile as downloaded from the developer portal: it must be signed by Apple (a chain to an Apple root).',
  PROFILE_PLATFORM_MISMATCH: 'Sign with a profile made for the app’s platform (an iOS profile for an iOS app).',
  PROFILE_EXPIRED:
    'Create a new profile in the developer portal (Certificates, Identifiers & Profiles), re-sign and export.',
  PROFILE_APP_ID_MISMATCH: 'Use a profile whose App ID matches the bundle ID (or a wildcard covering it).',
  ENCRYPTION_UNANSWERED:
    'Add ITSAppUsesNonExemptEncryption to Info.plist, or pass --encryption exempt|non-exempt when deploying.',
  PKG_NOT_INSPECTED: 'macOS .pkg installers are uploaded as they are; ascend checks only .ipa contents.',
  APP_RECORD_MISSING:
    'Create the app in App Store Connect → Apps → "+" with this bundle ID (the API cannot create apps).',
  BUILD_NUMBER_USED:
    'Raise CFBundleVersion above the highest build number of this version (`ascend builds next-number`).',
  BUILD_NUMBER_IN_FLIGHT:
    'An upload with this build number is still being processed; raise CFBundleVersion or wait for it.',
  VERSION_TRAIN_CLOSED:
    'This version was already approved or released; raise CFBundleShortVersionString (MARKETING_VERSION).',
  VERSION_NOT_HIGHER: 'CFBundleShortVersionString must be higher than the version live on the App Store; raise it.',
} as const;

export type CheckCode = keyof typeof CHECKS;

function finding(code: CheckCode, severity: Finding['severity'], message: string, bundle?: string): Finding {
  // Messages quote names and versions from the file: no terminal control sequence may pass through.
  return { code, severity, message: escapeControl(message), fix: CHECKS[code], ...(bundle ? { bundle } : {}) };
}

const BUNDLE_ID = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;

/** The largest component Apple accepts is 999999999999999999 (18 digits; Apple Developer Forums 765945). */
export const MAX_VERSION_COMPONENT_DIGITS = 18;

/**
 * Why a CFBundleShortVersionString / CFBundleVersion is not what Apple accepts (one to three period-separated
 * non-negative integers, digits and periods only), or null when it is. Checked here, before anything is
 * created remotely: a 10,000-digit version used to pass inspection and fail the deploy half-way.
 */
export function versionProblem(v: string | null): string | null {
  if (v === null) return 'is missing';
  if (v === '') return 'is empty';
  const parts = v.split('.');
  if (!/^[0-9.]+$/.test(v)) return `${shown(v)} has characters other than digits and periods`;
  if (parts.some((p) => p === '')) return `${shown(v)} has an empty component`;
  if (parts.length > 3) return `${shown(v)} has ${parts.length} components; at most 3 are allowed`;
  const long = parts.find((p) => p.length > MAX_VERSION_COMPONENT_DIGITS);
  if (long)
    return `${shown(v)} has a ${long.length}-digit component; Apple allows at most ${MAX_VERSION_COMPONENT_DIGITS} digits`;
  return null;
}

/** A value from the file, cut short for a one-line message: it may be megabytes long. */
export function shown(v: string, max = 40): string {
  return quoteForLine(v, max);
}

export interface PreflightOptions {
  /** Today, for expiry checks (injected for tests). */
  now: Date;
  /** The distribution the build is for; App Store/TestFlight uploads need an Apple-signed App Store profile. */
  target?: 'app-store';
}

function checkBundle(b: BundleFacts, out: Finding[]): void {
  const where =
    b.role === 'app' ? 'The app' : `${b.role === 'extension' ? 'Extension' : 'Watch app'} ${b.path.split('/').pop()}`;
  if (b.plistError) {
    out.push(finding('INFO_PLIST_MISSING', 'error', `${where}: ${b.plistError}`, b.path));
    return;
  }
  if (!b.bundleId) out.push(finding('BUNDLE_ID_MISSING', 'error', `${where} has no CFBundleIdentifier`, b.path));
  else if (!BUNDLE_ID.test(b.bundleId))
    out.push(
      finding('BUNDLE_ID_INVALID', 'error', `${where}'s CFBundleIdentifier ${shown(b.bundleId)} is malformed`, b.path),
    );
  const short = versionProblem(b.shortVersion);
  if (short)
    out.push(finding('SHORT_VERSION_INVALID', 'error', `${where}'s CFBundleShortVersionString ${short}`, b.path));
  const build = versionProblem(b.buildVersion);
  if (build) out.push(finding('BUILD_VERSION_INVALID', 'error', `${where}'s CFBundleVersion ${build}`, b.path));
  if (b.role === 'app' && !b.minimumOSVersion)
    out.push(finding('MINIMUM_OS_MISSING', 'error', `${where} has no MinimumOSVersion`, b.path));
  if (!b.executable) out.push(finding('EXECUTABLE_MISSING', 'error', `${where} has no CFBundleExecutable`, b.path));
  else if (!b.executablePresent)
    out.push(
      finding('EXECUTABLE_MISSING', 'error', `${where}'s executable "${b.executable}" is not in the bundle`, b.path),
    );
  if (b.platformName?.endsWith('simulator'))
    out.push(finding('SIMULATOR_BUILD', 'error', `${where} was built for ${b.platformName}`, b.path));
}

/** What App Store Connect refuses in a profile: not App Store kind, not signed by Apple, another platform. */
function checkDistribution(
  b: BundleFacts,
  p: ProfileFacts,
  platform: IpaFacts['platform'],
  where: string,
  out: Finding[],
): void {
  const name = p.name === null ? 'unnamed' : shown(p.name, 60);
  if (p.kind !== 'app-store') {
    const kind = p.kind === 'enterprise' ? 'an In-House (enterprise)' : `a ${p.kind}`;
    out.push(
      finding(
        'PROFILE_NOT_APP_STORE',
        'error',
        `${where} is signed with ${kind} profile (${name}), not an App Store one`,
        b.path,
      ),
    );
  }
  if (!p.signerTrusted) {
    out.push(
      finding(
        'PROFILE_UNTRUSTED_SIGNER',
        'error',
        `${where}'s profile (${name}) is signed by ${p.signer === null ? 'an unreadable certificate' : shown(p.signer, 60)}: ${p.trustProblem}`,
        b.path,
      ),
    );
  }
  // Apple's own words in profiles: "iOS", "tvOS", "xrOS"/"visionOS" for device platforms, "OSX" for macOS.
  const mac = p.platforms.includes('OSX') && !p.platforms.some((x) => /^(iOS|tvOS|xrOS|visionOS|watchOS)$/.test(x));
  if (platform && platform !== 'MAC_OS' && mac) {
    out.push(
      finding(
        'PROFILE_PLATFORM_MISMATCH',
        'error',
        `${where}'s profile (${name}) is a macOS profile, but the app is built for ${platform}`,
        b.path,
      ),
    );
  }
}

function checkProfile(b: BundleFacts, opts: PreflightOptions, out: Finding[], platform: IpaFacts['platform']): void {
  const where = b.role === 'app' ? 'The app' : `${b.path.split('/').pop()}`;
  if (b.profileError) {
    out.push(
      finding(
        'PROFILE_UNREADABLE',
        'error',
        `${where}'s provisioning profile cannot be used: ${b.profileError}`,
        b.path,
      ),
    );
    return;
  }
  const p = b.profile;
  if (!p) {
    out.push(finding('PROFILE_MISSING', 'error', `${where} has no embedded.mobileprovision`, b.path));
    return;
  }
  if (opts.target === 'app-store') checkDistribution(b, p, platform, where, out);
  if (p.expirationDate && Date.parse(p.expirationDate) < opts.now.getTime()) {
    out.push(
      finding(
        'PROFILE_EXPIRED',
        'error',
        `${where}'s profile ${p.name === null ? '' : `${shown(p.name, 60)} `}expired on ${p.expirationDate.slice(0, 10)}`,
        b.path,
      ),
    );
  }
  if (b.bundleId && !profileCovers(p.applicationIdentifier, p.teamId, b.bundleId)) {
    out.push(
      finding(
        'PROFILE_APP_ID_MISMATCH',
        'error',
        `${where}'s profile is for ${p.applicationIdentifier ?? 'no App ID'}, which does not cover ${b.bundleId}`,
        b.path,
      ),
    );
  }
}

/** Local checks over the inspected facts: no network, milliseconds. */
export function preflight(facts: IpaFacts, opts: PreflightOptions): Finding[] {
  const out: Finding[] = [];
  if (facts.kind === 'pkg')
    return [finding('PKG_NOT_INSPECTED', 'warning', `${facts.file} is a macOS installer package`)];
  const app = facts.app!;
  checkBundle(app, out);
  const nested = [...facts.extensions, ...facts.watchApps];
  for (const b of nested) {
    checkBundle(b, out);
    if (b.plistError) continue;
    if (app.bundleId && b.bundleId && !b.bundleId.startsWith(`${app.bundleId}.`)) {
      out.push(
        finding(
          'EXTENSION_BUNDLE_ID_PREFIX',
          'error',
          `${b.path.split('/').pop()} has bundle ID ${b.bundleId}, not prefixed by ${app.bundleId}.`,
          b.path,
        ),
      );
    }
    if (
      (b.shortVersion && b.shortVersion !== app.shortVersion) ||
      (b.buildVersion && b.buildVersion !== app.buildVersion)
    ) {
      out.push(
        finding(
          'EXTENSION_VERSION_MISMATCH',
          'error',
          `${b.path.split('/').pop()} is ${b.shortVersion} (${b.buildVersion}) but the app is ${app.shortVersion} (${app.buildVersion})`,
          b.path,
        ),
      );
    }
  }
  const ids = [app, ...nested].map((b) => b.bundleId).filter(Boolean);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) out.push(finding('DUPLICATE_BUNDLE_ID', 'error', `bundle ID ${dup} is used by more than one bundle`));
  if (!app.plistError) {
    checkProfile(app, opts, out, facts.platform);
    for (const b of nested)
      if (!b.plistError && (b.profile || b.profileError || opts.target === 'app-store'))
        checkProfile(b, opts, out, facts.platform);
    if (app.usesNonExemptEncryption === null) {
      out.push(
        finding(
          'ENCRYPTION_UNANSWERED',
          'warning',
          'Info.plist does not answer export compliance (ITSAppUsesNonExemptEncryption)',
        ),
      );
    }
  }
  return out;
}

/** What App Store Connect says about the app, gathered by the caller (this module never touches the network). */
export interface RemoteState {
  app: { id: string; bundleId: string } | null;
  /** Build numbers of processed builds in the IPA's version train. */
  builds: string[];
  /** Build numbers of uploads of this version still in flight (not FAILED). */
  uploadsInFlight: string[];
  /** Version strings of App Store versions that closed their train (approved, released, pending release). */
  closedVersions: string[];
  /** The highest version live on the App Store, if any. */
  liveVersion: string | null;
}

/** Checks that need App Store Connect's state, as pure functions over data the caller passed in. */
export function remotePreflight(facts: IpaFacts, remote: RemoteState): Finding[] {
  const app = facts.app;
  if (!app?.bundleId || !app.shortVersion || !app.buildVersion) return [];
  const out: Finding[] = [];
  if (!remote.app) {
    out.push(
      finding(
        'APP_RECORD_MISSING',
        'error',
        `no app record with bundle ID ${app.bundleId} exists in App Store Connect`,
      ),
    );
    return out;
  }
  const same = (n: string) => compareDotted(n, app.buildVersion!) === 0;
  if (remote.builds.some(same)) {
    out.push(
      finding(
        'BUILD_NUMBER_USED',
        'error',
        `build ${app.buildVersion} of version ${app.shortVersion} already exists (Apple would answer 90189)`,
      ),
    );
  } else if (remote.uploadsInFlight.some(same)) {
    out.push(
      finding(
        'BUILD_NUMBER_IN_FLIGHT',
        'error',
        `an upload of build ${app.buildVersion} for version ${app.shortVersion} is already in flight`,
      ),
    );
  }
  if (remote.closedVersions.some((v) => compareDotted(v, app.shortVersion!) === 0)) {
    out.push(
      finding(
        'VERSION_TRAIN_CLOSED',
        'error',
        `version ${app.shortVersion} is closed for new builds (Apple would answer 90186)`,
      ),
    );
  } else if (remote.liveVersion && compareDotted(app.shortVersion, remote.liveVersion) < 0) {
    out.push(
      finding(
        'VERSION_NOT_HIGHER',
        'error',
        `version ${app.shortVersion} is lower than ${remote.liveVersion}, live on the App Store (Apple would answer 90062)`,
      ),
    );
  }
  return out;
}
