import { generateKeyPairSync } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import forge from 'node-forge';
import { buildBinary, build as buildXml } from 'plist';
import yazl from 'yazl';
import { SAMPLE_ROOT_CERT_PEM, SAMPLE_ROOT_KEY_PEM } from './test-root.js';

export { SAMPLE_ROOT_CERT_PEM, SAMPLE_ROOT_SHA256 } from './test-root.js';

/**
 * Makes .ipa files for `ascend demo`, tests and benchmarks: binary or XML Info.plists, extensions and watch apps,
 * provisioning profiles signed as CMS by the sample root (src/sample/test-root.ts; trusted only when
 * SAMPLE_ROOT_SHA256 is passed as an extra trusted root) or a per-process foreign certificate, and optionally
 * a huge streamed payload. Nothing here is a real app or a real Apple signature.
 */

export type ProfileKind = 'app-store' | 'ad-hoc' | 'development' | 'enterprise';

export interface ProfileSpec {
  kind?: ProfileKind;
  teamId?: string;
  /** Bundle ID or wildcard the profile covers (without the team prefix); default: the bundle's ID. */
  appId?: string;
  expires?: Date;
  name?: string;
  /** The profile's `Platform` list; default ['iOS']. ['OSX'] makes a macOS profile. */
  platforms?: string[];
  /** Who signs: the sample root (default) or a self-signed certificate no one trusts. */
  signer?: 'sample' | 'foreign';
  /** Sign these bytes instead of the profile plist (hostile-input tests). */
  rawContent?: Buffer;
}

export interface BundleSpec {
  bundleId?: string | null;
  version?: string | null;
  build?: string | null;
  executable?: string | null;
  /** Leave the executable named by CFBundleExecutable out of the zip. */
  omitExecutable?: boolean;
  minimumOS?: string | null;
  plistFormat?: 'binary' | 'xml';
  encryption?: boolean | null;
  platformName?: string;
  deviceFamily?: number[];
  profile?: ProfileSpec | null;
  extraPlist?: Record<string, unknown>;
  /** Raw bytes to use as Info.plist instead of building one. */
  rawPlist?: Buffer;
  omitPlist?: boolean;
}

export interface IpaSpec extends BundleSpec {
  appName?: string;
  wrapper?: string;
  extensions?: (BundleSpec & { name: string })[];
  watchApps?: (BundleSpec & { name: string })[];
  /** Extra raw entries, e.g. to test unsafe paths. */
  extraEntries?: { name: string; data: Buffer; store?: boolean }[];
  /** A large stored payload file of this many bytes, streamed (for GiB-sized benchmark IPAs). */
  payloadBytes?: number;
  /** Write the payload before the app's files, so Info.plist and the profile sit past its end (past 4 GiB). */
  payloadFirst?: boolean;
  macosxJunk?: boolean;
}

type Signer = { key: forge.pki.rsa.PrivateKey; cert: forge.pki.Certificate };
let foreign: Signer | undefined;
let sample: Signer | undefined;

function sampleSigner(): Signer {
  sample ??= {
    key: forge.pki.privateKeyFromPem(SAMPLE_ROOT_KEY_PEM) as forge.pki.rsa.PrivateKey,
    cert: forge.pki.certificateFromPem(SAMPLE_ROOT_CERT_PEM),
  };
  return sample;
}

/** A self-signed certificate made in this process: a profile signed by someone who is not Apple. */
function foreignSigner(): Signer {
  if (foreign) return foreign;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = forge.pki.privateKeyFromPem(
    privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
  ) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.UTC(2020, 0, 1));
  cert.validity.notAfter = new Date(Date.UTC(2040, 0, 1));
  const attrs = [{ name: 'commonName', value: 'ascend test profile signing (not Apple)' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(key, forge.md.sha256.create());
  foreign = { key, cert };
  return foreign;
}

/** A provisioning profile: CMS SignedData (DER) over an XML plist, as Apple's are shaped. */
export function makeProfile(bundleId: string, spec: ProfileSpec = {}, tamper = false): Buffer {
  const team = spec.teamId ?? 'TEAM123456';
  const kind = spec.kind ?? 'app-store';
  const entitlements: Record<string, unknown> = {
    'application-identifier': `${team}.${spec.appId ?? bundleId}`,
    'com.apple.developer.team-identifier': team,
    'get-task-allow': kind === 'development',
  };
  if (kind === 'app-store') entitlements['beta-reports-active'] = true;
  const body: Record<string, unknown> = {
    AppIDName: 'Test App',
    ApplicationIdentifierPrefix: [team],
    CreationDate: new Date(Date.UTC(2026, 0, 1)),
    Platform: spec.platforms ?? ['iOS'],
    Entitlements: entitlements,
    ExpirationDate: spec.expires ?? new Date(Date.UTC(2036, 0, 1)),
    Name: spec.name ?? `${kind} ${bundleId}`,
    TeamIdentifier: [team],
    TeamName: 'Test Team',
    TimeToLive: 365,
    UUID: '2b2f1c0e-0000-4000-8000-000000000001',
    Version: 1,
  };
  if (kind === 'ad-hoc' || kind === 'development') body.ProvisionedDevices = ['00008030-001A2B3C4D5E6F70'];
  if (kind === 'enterprise') body.ProvisionsAllDevices = true;
  const xml = buildXml(body as Parameters<typeof buildXml>[0]);
  const { key, cert } = spec.signer === 'foreign' ? foreignSigner() : sampleSigner();
  const p7 = forge.pkcs7.createSignedData();
  p7.content = spec.rawContent
    ? forge.util.createBuffer(spec.rawContent.toString('binary'), 'raw')
    : forge.util.createBuffer(xml, 'utf8');
  p7.addCertificate(cert);
  p7.addSigner({
    key,
    certificate: cert,
    digestAlgorithm: forge.pki.oids.sha256!,
    authenticatedAttributes: [
      { type: forge.pki.oids.contentType!, value: forge.pki.oids.data! },
      { type: forge.pki.oids.messageDigest! },
      { type: forge.pki.oids.signingTime!, value: new Date(Date.UTC(2026, 0, 1)) as unknown as string },
    ],
  });
  p7.sign();
  let der = Buffer.from(forge.asn1.toDer(p7.toAsn1()).getBytes(), 'binary');
  if (tamper)
    der = Buffer.from(der.toString('latin1').replace('<string>iOS</string>', '<string>OSX</string>'), 'latin1');
  return der;
}

function infoPlist(spec: BundleSpec, defaults: { bundleId: string; name: string }): Buffer {
  if (spec.rawPlist) return spec.rawPlist;
  const p: Record<string, unknown> = {
    CFBundleName: defaults.name,
    CFBundlePackageType: 'APPL',
    CFBundleSupportedPlatforms: ['iPhoneOS'],
    DTPlatformName: spec.platformName ?? 'iphoneos',
    DTSDKName: 'iphoneos18.0',
    DTXcode: '1600',
    UIDeviceFamily: spec.deviceFamily ?? [1, 2],
    ...spec.extraPlist,
  };
  const set = (k: string, v: unknown) => {
    if (v !== null && v !== undefined) p[k] = v;
  };
  set('CFBundleIdentifier', spec.bundleId === undefined ? defaults.bundleId : spec.bundleId);
  set('CFBundleShortVersionString', spec.version === undefined ? '1.0.0' : spec.version);
  set('CFBundleVersion', spec.build === undefined ? '1' : spec.build);
  set('CFBundleExecutable', spec.executable === undefined ? defaults.name : spec.executable);
  set('MinimumOSVersion', spec.minimumOS === undefined ? '16.0' : spec.minimumOS);
  set('ITSAppUsesNonExemptEncryption', spec.encryption === undefined ? false : spec.encryption);
  return (spec.plistFormat ?? 'binary') === 'binary'
    ? Buffer.from(buildBinary(p as Parameters<typeof buildBinary>[0]))
    : Buffer.from(buildXml(p as Parameters<typeof buildXml>[0]));
}

function addBundle(
  zip: yazl.ZipFile,
  dir: string,
  spec: BundleSpec,
  defaults: { bundleId: string; name: string },
): void {
  if (!spec.omitPlist) zip.addBuffer(infoPlist(spec, defaults), `${dir}/Info.plist`);
  const exe = spec.executable === undefined ? defaults.name : spec.executable;
  if (exe && !spec.omitExecutable)
    zip.addBuffer(Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0x00, 0x00, 0x01]), `${dir}/${exe}`);
  if (spec.profile !== null) {
    const id = (spec.bundleId === undefined ? defaults.bundleId : spec.bundleId) ?? defaults.bundleId;
    zip.addBuffer(makeProfile(id, spec.profile ?? {}), `${dir}/embedded.mobileprovision`);
  }
}

/** Writes an .ipa to `path`; resolves when the file is complete. */
export async function buildIpa(path: string, spec: IpaSpec = {}): Promise<void> {
  const zip = new yazl.ZipFile();
  const name = spec.appName ?? 'Sample';
  const bundleId = spec.bundleId ?? 'com.example.sandbox.one';
  const root = `${spec.wrapper ? `${spec.wrapper}/` : ''}Payload/${name}.app`;
  const addPayload = () => {
    if (spec.payloadBytes) {
      const total = spec.payloadBytes;
      const chunk = Buffer.alloc(1024 * 1024, 0x5a);
      let sent = 0;
      const stream = new Readable({
        read() {
          if (sent >= total) return this.push(null);
          const n = Math.min(chunk.length, total - sent);
          sent += n;
          this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
        },
      });
      zip.addReadStream(stream, `${root}/Assets.car`, {
        compress: false,
        size: total,
        forceZip64Format: total > 0xfffffffe,
      });
    }
  };
  if (spec.payloadFirst) addPayload();
  addBundle(zip, root, spec, { bundleId, name });
  for (const ext of spec.extensions ?? []) {
    addBundle(
      zip,
      `${root}/PlugIns/${ext.name}.appex`,
      { version: spec.version, build: spec.build, ...ext },
      { bundleId: `${bundleId}.${ext.name.toLowerCase()}`, name: ext.name },
    );
  }
  for (const w of spec.watchApps ?? []) {
    addBundle(
      zip,
      `${root}/Watch/${w.name}.app`,
      { version: spec.version, build: spec.build, ...w },
      { bundleId: `${bundleId}.watchkitapp`, name: w.name },
    );
  }
  if (spec.macosxJunk) zip.addBuffer(Buffer.from('junk'), `__MACOSX/${root}/._Info.plist`);
  for (const e of spec.extraEntries ?? []) zip.addBuffer(e.data, e.name, { compress: !e.store });
  if (!spec.payloadFirst) addPayload();
  zip.end();
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path);
    zip.outputStream.pipe(out).on('close', resolve).on('error', reject);
  });
}
