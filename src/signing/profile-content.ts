import { parse } from 'plist';
import { AscendError } from '../core/errors.js';

/** What ascend checks in a profile Apple returns before writing it out. */
export interface ProfileContent {
  name: string | null;
  uuid: string | null;
  teamId: string | null;
  applicationIdentifier: string | null;
  expirationDate: Date | null;
  certificatesDer: Buffer[];
  getTaskAllow: boolean | null;
  devices: number;
}

const MAX_PROFILE_BYTES = 2 * 1024 * 1024;

/**
 * Reads the plist inside a `.mobileprovision`. The signing room may not use the `.ipa` inspector
 * (DESIGN §2), and it needs no signature check here: the bytes come straight from App Store Connect over TLS,
 * and what matters is that they name our bundle ID and embed our certificate. The plist is the CMS content,
 * stored as plain bytes between the XML declaration and `</plist>`.
 */
export function readProfileContent(der: Buffer, origin: string): ProfileContent {
  const fail = (why: string) =>
    new AscendError('PROFILE_INVALID', `${origin} ${why}`, {
      remedy: 'Run `ascend signing ensure` again; if it repeats, delete the profile in the developer portal.',
    });
  if (der.length === 0 || der.length > MAX_PROFILE_BYTES) throw fail(`is ${der.length} bytes, not a profile`);
  if (der[0] !== 0x30) throw fail('is not CMS signed data');
  const start = der.indexOf('<?xml');
  const end = der.indexOf('</plist>', start);
  if (start < 0 || end < 0) throw fail('holds no property list');
  let p: Record<string, unknown>;
  try {
    p = parse(der.subarray(start, end + '</plist>'.length).toString('utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw fail(`holds a damaged property list (${(cause as Error).message})`);
  }
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw fail('holds no dictionary');
  const ent = (p.Entitlements && typeof p.Entitlements === 'object' ? p.Entitlements : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const teams = Array.isArray(p.TeamIdentifier) ? p.TeamIdentifier : [];
  const certs = Array.isArray(p.DeveloperCertificates) ? p.DeveloperCertificates : [];
  return {
    name: str(p.Name),
    uuid: str(p.UUID),
    teamId: str(teams[0]),
    applicationIdentifier: str(ent['application-identifier']),
    expirationDate: p.ExpirationDate instanceof Date ? p.ExpirationDate : null,
    certificatesDer: certs.filter((c): c is Uint8Array => c instanceof Uint8Array).map((c) => Buffer.from(c)),
    getTaskAllow: typeof ent['get-task-allow'] === 'boolean' ? ent['get-task-allow'] : null,
    devices: Array.isArray(p.ProvisionedDevices) ? p.ProvisionedDevices.length : 0,
  };
}
