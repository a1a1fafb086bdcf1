import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { ByteSource } from '../core/byte-source.js';
import { AscendError } from '../core/errors.js';
import { escapeControl } from '../core/text.js';
import { type PlistDict, parsePlistDict } from './plist.js';
import { MAX_PROFILE_BYTES, parseProfile } from './profile.js';
import { type TrustAnchors, trustAnchors } from './trust.js';
import type { BundleFacts, IpaFacts, Platform } from './types.js';
import { ZipReader } from './zip.js';

const MAX_INFO_PLIST = 8 * 1024 * 1024;
/**
 * All Info.plists and profiles of one IPA together: a real app's are well under 1 MiB in total, and each
 * parsed plist may expand to twice its size, so this keeps inspection inside its memory budget even for
 * an archive of many bundles with oversized metadata.
 */
export const MAX_METADATA_BYTES = 24 * 1024 * 1024;
/** Extensions and watch apps read per IPA; real apps carry a handful, rarely a few dozen. */
export const MAX_NESTED_BUNDLES = 100;

/** Counts the declared sizes of the metadata files read from one archive against MAX_METADATA_BYTES. */
class MetadataBudget {
  private left = MAX_METADATA_BYTES;
  constructor(private readonly zip: ZipReader) {}

  take(name: string): void {
    const size = this.zip.entries.get(name)?.uncompressedSize ?? 0;
    if (size > this.left)
      throw new AscendError(
        'IPA_ENTRY_TOO_LARGE',
        `${this.zip.path} holds more than ${MAX_METADATA_BYTES} bytes of Info.plists and profiles (at ${escapeControl(name)})`,
      );
    this.left -= size;
  }
}

/** Streams the file (or a ByteSource, one range) once for MD5 and SHA-256 together. */
export async function fileChecksums(path: string | ByteSource): Promise<{ md5: string; sha256: string }> {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  if (typeof path !== 'string') {
    const reader = path.range(0, path.size);
    const buf = Buffer.alloc(1024 * 1024);
    try {
      for (let n = await reader.read(buf, 0, buf.length); n > 0; n = await reader.read(buf, 0, buf.length)) {
        md5.update(buf.subarray(0, n));
        sha.update(buf.subarray(0, n));
      }
    } finally {
      reader.close();
    }
    return { md5: md5.digest('hex'), sha256: sha.digest('hex') };
  }
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    md5.update(chunk as Buffer);
    sha.update(chunk as Buffer);
  }
  return { md5: md5.digest('hex'), sha256: sha.digest('hex') };
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function platformOf(plist: PlistDict): Platform | null {
  const name = str(plist.DTPlatformName);
  const supported = Array.isArray(plist.CFBundleSupportedPlatforms) ? plist.CFBundleSupportedPlatforms.map(String) : [];
  const all = [name ?? '', ...supported].map((s) => s.toLowerCase());
  if (all.some((s) => s.startsWith('appletv'))) return 'TV_OS';
  if (all.some((s) => s.startsWith('xr'))) return 'VISION_OS';
  if (all.some((s) => s.startsWith('macos') || s === 'macosx')) return 'MAC_OS';
  if (all.some((s) => s.startsWith('iphone'))) return 'IOS';
  const family = Array.isArray(plist.UIDeviceFamily) ? plist.UIDeviceFamily.map(Number) : [];
  if (family.includes(3)) return 'TV_OS';
  if (family.includes(7)) return 'VISION_OS';
  if (family.includes(1) || family.includes(2)) return 'IOS';
  return null;
}

async function readBundle(
  zip: ZipReader,
  path: string,
  role: BundleFacts['role'],
  anchors: TrustAnchors,
  budget: MetadataBudget,
): Promise<{ facts: BundleFacts; platform: Platform | null }> {
  let platform: Platform | null = null;
  const facts: BundleFacts = {
    path,
    role,
    bundleId: null,
    shortVersion: null,
    buildVersion: null,
    name: null,
    executable: null,
    executablePresent: false,
    minimumOSVersion: null,
    deviceFamily: [],
    platformName: null,
    supportedPlatforms: [],
    sdk: null,
    xcode: null,
    usesNonExemptEncryption: null,
    plistFormat: null,
    plistError: null,
    profile: null,
    profileError: null,
  };
  const plistPath = `${path}/Info.plist`;
  if (!zip.has(plistPath)) {
    facts.plistError = `${plistPath} is missing`;
  } else {
    budget.take(plistPath);
    const { value: p, format } = parsePlistDict(await zip.read(plistPath, MAX_INFO_PLIST), escapeControl(plistPath));
    facts.plistFormat = format;
    facts.bundleId = str(p.CFBundleIdentifier);
    facts.shortVersion = str(p.CFBundleShortVersionString);
    facts.buildVersion = str(p.CFBundleVersion);
    facts.name = str(p.CFBundleDisplayName) ?? str(p.CFBundleName);
    facts.executable = str(p.CFBundleExecutable);
    facts.executablePresent = facts.executable !== null && zip.has(`${path}/${facts.executable}`);
    facts.minimumOSVersion = str(p.MinimumOSVersion) ?? str(p.LSMinimumSystemVersion);
    facts.deviceFamily = Array.isArray(p.UIDeviceFamily) ? p.UIDeviceFamily.map(Number) : [];
    facts.platformName = str(p.DTPlatformName);
    facts.supportedPlatforms = Array.isArray(p.CFBundleSupportedPlatforms)
      ? p.CFBundleSupportedPlatforms.map(String)
      : [];
    facts.sdk = str(p.DTSDKName);
    facts.xcode = str(p.DTXcode);
    facts.usesNonExemptEncryption =
      typeof p.ITSAppUsesNonExemptEncryption === 'boolean' ? p.ITSAppUsesNonExemptEncryption : null;
    platform = platformOf(p);
  }
  const profilePath = `${path}/embedded.mobileprovision`;
  if (zip.has(profilePath)) {
    budget.take(profilePath);
    try {
      facts.profile = await parseProfile(await zip.read(profilePath, MAX_PROFILE_BYTES), escapeControl(profilePath), {
        anchors,
      });
    } catch (err) {
      if (!(err instanceof AscendError)) throw err;
      facts.profileError = err.message;
    }
  }
  return { facts, platform };
}

/** The file's size; a clear error when it is missing, a folder (an .xcarchive wants exporting) or a device. */
async function regularFileSize(file: string): Promise<number> {
  const st = await stat(file).catch(() => null);
  if (!st) throw new AscendError('FILE_NOT_FOUND', `${file} does not exist`);
  if (st.isDirectory()) {
    const archive = /\.xcarchive\/?$/i.test(file);
    throw new AscendError(
      'FILE_IS_DIRECTORY',
      archive ? `${file} is an Xcode archive (a folder), not an .ipa` : `${file} is a directory, not an .ipa file`,
      archive
        ? {
            remedy:
              'Export the archive to an .ipa first: `xcodebuild -exportArchive -archivePath <App>.xcarchive -exportPath <dir> -exportOptionsPlist <ExportOptions.plist>` (or Xcode → Organizer → Distribute App).',
          }
        : {},
    );
  }
  if (!st.isFile()) throw new AscendError('FILE_NOT_FOUND', `${file} is not a regular file`);
  return st.size;
}

/**
 * Reads what ascend needs from an .ipa without extracting it: the zip directory, the app's Info.plist,
 * its embedded.mobileprovision, extensions under PlugIns/ and watch apps under Watch/. A macOS .pkg (xar)
 * is recognised and reported as such.
 */
export interface InspectOptions {
  checksums?: boolean;
  /**
   * SHA-256 fingerprints of roots to trust for profile signatures besides Apple's (e.g. the sample
   * builder's SAMPLE_ROOT_SHA256 in tests and the demo). The CLI reads them from ASCEND_EXTRA_TRUSTED_ROOTS.
   */
  extraTrustedRoots?: readonly string[];
  /** The bytes of `file` from elsewhere (a worker's remote artifact); `file` then only names it. */
  source?: ByteSource;
}

export async function inspectIpa(file: string, options: InspectOptions = {}): Promise<IpaFacts> {
  const anchors = trustAnchors(options.extraTrustedRoots);
  const { source } = options;
  const size = source ? source.size : await regularFileSize(file);
  const head = Buffer.alloc(4);
  if (source) await source.read(head, 0, Math.min(4, size), 0);
  else {
    const fh = await open(file, 'r');
    try {
      await fh.read(head, 0, 4, 0);
    } finally {
      await fh.close();
    }
  }
  const checksums = options.checksums ? await fileChecksums(source ?? file) : undefined;
  if (head.toString('latin1') === 'xar!') {
    return {
      file,
      size,
      kind: 'pkg',
      platform: 'MAC_OS',
      wrapper: null,
      app: null,
      extensions: [],
      watchApps: [],
      entries: 0,
      ...(checksums ? { checksums } : {}),
    };
  }
  const zip = source ? await ZipReader.from(source, file) : await ZipReader.open(file);
  try {
    const names: string[] = [];
    for (const n of zip.names()) if (!n.startsWith('__MACOSX/') && !n.includes('/__MACOSX/')) names.push(n);
    const apps = new Set<string>();
    let wrapper: string | null = null;
    for (const n of names) {
      const m = /^(?:([^/]+)\/)?Payload\/([^/]+\.app)\//.exec(n);
      if (!m) continue;
      apps.add(`${m[1] ? `${m[1]}/` : ''}Payload/${m[2]}`);
      wrapper = m[1] ?? null;
    }
    if (apps.size === 0) {
      const hasPayload = names.some((n) => /^(?:[^/]+\/)?Payload\//.test(n));
      throw new AscendError(
        'IPA_NO_APP',
        hasPayload
          ? `${file} has a Payload/ folder but no .app bundle in it`
          : `${file} has no Payload/ folder: it is a zip, but not an .ipa`,
      );
    }
    if (apps.size > 1)
      throw new AscendError(
        'IPA_NO_APP',
        `${file} holds ${apps.size} app bundles in Payload/ (${escapeControl([...apps].slice(0, 5).join(', '))}); Apple accepts exactly one`,
      );
    const appPath = [...apps][0]!;
    const budget = new MetadataBudget(zip);
    const { facts: app, platform } = await readBundle(zip, appPath, 'app', anchors, budget);
    const nested = (re: RegExp) =>
      [...new Set(names.map((n) => re.exec(n)?.[1]).filter((x): x is string => Boolean(x)))].sort();
    const esc = appPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const extensionPaths = nested(new RegExp(`^(${esc}/(?:Watch/[^/]+\\.app/)?PlugIns/[^/]+\\.appex)/`));
    const watchPaths = nested(new RegExp(`^(${esc}/Watch/[^/]+\\.app)/`));
    if (extensionPaths.length + watchPaths.length > MAX_NESTED_BUNDLES)
      throw new AscendError(
        'IPA_TOO_MANY_ENTRIES',
        `${file} holds ${extensionPaths.length + watchPaths.length} extensions and watch apps; ascend reads at most ${MAX_NESTED_BUNDLES}`,
      );
    // One bundle at a time: only one parsed plist is alive at once, whatever the archive holds.
    const extensions: BundleFacts[] = [];
    for (const p of extensionPaths) extensions.push((await readBundle(zip, p, 'extension', anchors, budget)).facts);
    const watchApps: BundleFacts[] = [];
    for (const p of watchPaths) watchApps.push((await readBundle(zip, p, 'watch-app', anchors, budget)).facts);
    return {
      file,
      size,
      kind: 'ipa',
      platform,
      wrapper,
      app,
      extensions,
      watchApps,
      entries: zip.entries.size,
      ...(checksums ? { checksums } : {}),
    };
  } finally {
    await zip.close();
  }
}
