import { AscendError } from '../core/errors.js';
import { readSignedData } from './cms.js';
import { type PlistDict, type PlistValue, parsePlistDict } from './plist.js';
import { APPLE_ANCHORS, chainToAnchor, type TrustAnchors } from './trust.js';

export const MAX_PROFILE_BYTES = 2 * 1024 * 1024;

export type ProfileKind = 'app-store' | 'ad-hoc' | 'development' | 'enterprise' | 'developer-id' | 'unknown';

export interface ProfileFacts {
  name: string | null;
  uuid: string | null;
  teamId: string | null;
  teamName: string | null;
  appIdName: string | null;
  /** `<TEAMID>.<bundle id or wildcard>` from the entitlements. */
  applicationIdentifier: string | null;
  platforms: string[];
  kind: ProfileKind;
  creationDate: string | null;
  expirationDate: string | null;
  devices: number;
  provisionsAllDevices: boolean;
  getTaskAllow: boolean | null;
  betaReportsActive: boolean | null;
  apsEnvironment: string | null;
  /** Every entitlement, as JSON (data as base64, dates as ISO strings). */
  entitlements: Record<string, unknown>;
  isXcodeManaged: boolean;
  /** The CMS signature over the profile checks out (content digest and signer's signature). */
  signatureValid: boolean;
  encoding: 'der' | 'ber-indefinite';
  /** The signing certificate's common name, e.g. "Apple iPhone OS Provisioning Profile Signing". */
  signer: string | null;
  /** The signer's certificate chains to one of the trust anchors (Apple's roots unless told otherwise). */
  signerTrusted: boolean;
  /** Why the signer is not trusted, when it is not. */
  trustProblem: string | null;
}

export interface ProfileOptions {
  /** Whose signatures count as Apple's: Apple's roots by default (src/ipa/trust.ts). */
  anchors?: TrustAnchors;
}

const str = (v: PlistValue | undefined): string | null => (typeof v === 'string' ? v : null);
const bool = (v: PlistValue | undefined): boolean | null => (typeof v === 'boolean' ? v : null);
const date = (v: PlistValue | undefined): string | null => (v instanceof Date ? v.toISOString() : null);

/**
 * Reads an embedded.mobileprovision / embedded.provisionprofile: CMS SignedData (DER or BER
 * indefinite-length) wrapping an XML plist. Apple calls the format undocumented (TN3125), so the facts are
 * used for diagnostics, and unknown shapes are reported rather than guessed.
 */
export async function parseProfile(
  buf: Uint8Array,
  origin: string,
  options: ProfileOptions = {},
): Promise<ProfileFacts> {
  if (buf.length === 0) throw new AscendError('PROFILE_INVALID', `${origin} is empty`);
  if (buf.length > MAX_PROFILE_BYTES)
    throw new AscendError('PROFILE_INVALID', `${origin} is ${buf.length} bytes, larger than any real profile`);
  if (buf[0] !== 0x30) {
    const head = Buffer.from(buf.subarray(0, 16)).toString('latin1');
    const what = head.startsWith('bplist')
      ? 'a bare binary property list'
      : head.includes('<')
        ? 'a bare XML file'
        : 'not CMS data';
    throw new AscendError('PROFILE_INVALID', `${origin} is ${what}, not a signed provisioning profile (CMS)`);
  }
  let signed: ReturnType<typeof readSignedData>;
  try {
    signed = readSignedData(buf);
  } catch (cause) {
    throw new AscendError(
      'PROFILE_INVALID',
      `${origin} is not a readable CMS SignedData structure (${(cause as Error).message})`,
      { cause },
    );
  }
  if (!signed.signatureValid) {
    throw new AscendError('PROFILE_INVALID', `${origin} fails its CMS signature check: it was altered after signing`);
  }
  const content = signed.content;
  const { value: p } = parsePlistDict(content, `the plist inside ${origin}`);
  const chain = chainToAnchor(signed.signerCert!, signed.certs, options.anchors ?? APPLE_ANCHORS);
  return {
    ...factsOf(p, signed.encoding),
    signer: chain.signer,
    signerTrusted: chain.trusted,
    trustProblem: chain.problem,
  };
}

type PlistFacts = Omit<ProfileFacts, 'signer' | 'signerTrusted' | 'trustProblem'>;

function factsOf(p: PlistDict, encoding: ProfileFacts['encoding']): PlistFacts {
  const ent = (p.Entitlements && typeof p.Entitlements === 'object' ? p.Entitlements : {}) as PlistDict;
  const platforms = Array.isArray(p.Platform) ? p.Platform.filter((x): x is string => typeof x === 'string') : [];
  const devices = Array.isArray(p.ProvisionedDevices) ? p.ProvisionedDevices.length : 0;
  const all = p.ProvisionsAllDevices === true;
  const getTaskAllow = bool(ent['get-task-allow']) ?? bool(ent['com.apple.security.get-task-allow']);
  const isMac = platforms.includes('OSX');
  let kind: ProfileKind;
  if (all) kind = isMac ? 'developer-id' : 'enterprise';
  // macOS has no ad-hoc distribution: a Mac profile listing devices is a development one.
  else if (devices > 0) kind = getTaskAllow || isMac ? 'development' : 'ad-hoc';
  else if (getTaskAllow === false || (isMac && getTaskAllow === null)) kind = 'app-store';
  else if (getTaskAllow === true) kind = 'development';
  else kind = 'unknown';
  const teams = Array.isArray(p.TeamIdentifier) ? p.TeamIdentifier : [];
  return {
    name: str(p.Name),
    uuid: str(p.UUID),
    teamId: typeof teams[0] === 'string' ? teams[0] : null,
    teamName: str(p.TeamName),
    appIdName: str(p.AppIDName),
    applicationIdentifier: str(ent['application-identifier']) ?? str(ent['com.apple.application-identifier']),
    platforms,
    kind,
    creationDate: date(p.CreationDate),
    expirationDate: date(p.ExpirationDate),
    devices,
    provisionsAllDevices: all,
    getTaskAllow,
    betaReportsActive: bool(ent['beta-reports-active']),
    apsEnvironment: str(ent['aps-environment']) ?? str(ent['com.apple.developer.aps-environment']),
    entitlements: toJson(ent) as Record<string, unknown>,
    isXcodeManaged: p.IsXcodeManaged === true,
    signatureValid: true,
    encoding,
  };
}

function toJson(v: PlistValue): unknown {
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

/** Whether a profile's application identifier (`TEAM.com.example.*` or exact) covers a bundle ID. */
export function profileCovers(applicationIdentifier: string | null, teamId: string | null, bundleId: string): boolean {
  if (!applicationIdentifier) return false;
  const prefix = teamId ? `${teamId}.` : applicationIdentifier.slice(0, applicationIdentifier.indexOf('.') + 1);
  if (!applicationIdentifier.startsWith(prefix)) return false;
  const pattern = applicationIdentifier.slice(prefix.length);
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return bundleId.startsWith(pattern.slice(0, -1));
  return pattern === bundleId;
}
