import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIpa, type IpaSpec, SAMPLE_ROOT_SHA256 } from '../sample/builder.js';
import { inspectIpa } from './inspect.js';
import {
  MAX_VERSION_COMPONENT_DIGITS,
  preflight,
  type RemoteState,
  remotePreflight,
  versionProblem,
} from './preflight.js';

const dir = mkdtempSync(join(tmpdir(), 'ascend-pre-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NOW = new Date(Date.UTC(2026, 10, 26));
let n = 0;

async function findings(spec: IpaSpec, extraTrustedRoots: string[] = [SAMPLE_ROOT_SHA256]) {
  const p = join(dir, `${++n}.ipa`);
  await buildIpa(p, spec);
  const facts = await inspectIpa(p, { extraTrustedRoots });
  return { facts, found: preflight(facts, { now: NOW, target: 'app-store' }) };
}
const codes = (f: { code: string; severity: string }[]) => f.map((x) => `${x.severity}:${x.code}`);

describe('preflight (local)', () => {
  it('a well-formed App Store build passes with no findings', async () => {
    expect((await findings({})).found).toEqual([]);
  });

  it('each check fires on its own problem, with a message and a fix', async () => {
    const cases: [IpaSpec, string][] = [
      [{ bundleId: null }, 'error:BUNDLE_ID_MISSING'],
      [{ bundleId: 'com.example/app', profile: { appId: '*' } }, 'error:BUNDLE_ID_INVALID'],
      [{ version: null }, 'error:SHORT_VERSION_INVALID'],
      [{ version: '1.0.0.0' }, 'error:SHORT_VERSION_INVALID'],
      [{ build: '1a' }, 'error:BUILD_VERSION_INVALID'],
      [{ build: null }, 'error:BUILD_VERSION_INVALID'],
      [{ minimumOS: null }, 'error:MINIMUM_OS_MISSING'],
      [{ executable: null }, 'error:EXECUTABLE_MISSING'],
      [{ omitExecutable: true }, 'error:EXECUTABLE_MISSING'],
      [{ platformName: 'iphonesimulator' }, 'error:SIMULATOR_BUILD'],
      [{ profile: null }, 'error:PROFILE_MISSING'],
      [{ profile: { kind: 'development' } }, 'error:PROFILE_NOT_APP_STORE'],
      [{ profile: { kind: 'ad-hoc' } }, 'error:PROFILE_NOT_APP_STORE'],
      [{ profile: { expires: new Date(Date.UTC(2025, 0, 1)) } }, 'error:PROFILE_EXPIRED'],
      [{ profile: { appId: 'com.other.app' } }, 'error:PROFILE_APP_ID_MISMATCH'],
      [{ encryption: null }, 'warning:ENCRYPTION_UNANSWERED'],
      [
        { extensions: [{ name: 'Share', bundleId: 'com.elsewhere.share', profile: { appId: '*' } }] },
        'error:EXTENSION_BUNDLE_ID_PREFIX',
      ],
      [{ extensions: [{ name: 'Share', build: '2' }] }, 'error:EXTENSION_VERSION_MISMATCH'],
      [{ extensions: [{ name: 'Share', bundleId: 'com.example.sandbox.one' }] }, 'error:DUPLICATE_BUNDLE_ID'],
      [{ watchApps: [{ name: 'Watch', omitPlist: true }] }, 'error:INFO_PLIST_MISSING'],
    ];
    for (const [spec, code] of cases) {
      const { found } = await findings(spec);
      expect(codes(found), code).toContain(code);
      for (const f of found) {
        expect(f.message.length).toBeGreaterThan(10);
        expect(f.fix.length).toBeGreaterThan(10);
      }
    }
  });

  it('wildcard App IDs are accepted', async () => {
    expect((await findings({ profile: { appId: 'com.example.*' } })).found).toEqual([]);
  });

  it('refuses In-House, non-Apple-signed and macOS profiles for App Store uploads (issue 10 item 17)', async () => {
    const enterprise = (await findings({ profile: { kind: 'enterprise' } })).found;
    expect(codes(enterprise)).toEqual(['error:PROFILE_NOT_APP_STORE']);
    expect(enterprise[0]!.message).toMatch(/In-House \(enterprise\) profile/);
    const foreign = (await findings({ profile: { signer: 'foreign' } })).found;
    expect(codes(foreign)).toEqual(['error:PROFILE_UNTRUSTED_SIGNER']);
    expect(foreign[0]!.message).toMatch(/signed by "ascend test profile signing \(not Apple\)".*not at an Apple root/);
    // The sample root is trusted only when asked: by default only Apple's roots count.
    expect(codes((await findings({}, [])).found)).toEqual(['error:PROFILE_UNTRUSTED_SIGNER']);
    const mac = (await findings({ profile: { platforms: ['OSX'] } })).found;
    expect(codes(mac)).toEqual(['error:PROFILE_PLATFORM_MISMATCH']);
    expect(mac[0]!.message).toMatch(/macOS profile, but the app is built for IOS/);
    // Extensions are held to the same rules.
    const ext = (await findings({ extensions: [{ name: 'Share', profile: { kind: 'enterprise' } }] })).found;
    expect(ext.map((f) => [f.code, f.bundle])).toEqual([
      ['PROFILE_NOT_APP_STORE', 'Payload/Sample.app/PlugIns/Share.appex'],
    ]);
  });

  it('validates version strings as Apple does, before anything is created (issue 10 item 6)', async () => {
    const huge = '9'.repeat(10_000);
    const { found } = await findings({ version: huge, build: `1.${'0'.repeat(19)}` });
    expect(codes(found)).toEqual(['error:SHORT_VERSION_INVALID', 'error:BUILD_VERSION_INVALID']);
    expect(found[0]!.message).toMatch(/\(10000 characters\) has a 10000-digit component; Apple allows at most 18/);
    expect(found[0]!.message.length).toBeLessThan(200);
    expect(found[1]!.message).toMatch(/19-digit component/);
    expect(versionProblem('1'.repeat(MAX_VERSION_COMPONENT_DIGITS))).toBeNull();
    expect(versionProblem('1.2.3')).toBeNull();
    expect(versionProblem('1')).toBeNull();
    expect(versionProblem(null)).toBe('is missing');
    expect(versionProblem('')).toBe('is empty');
    expect(versionProblem('1..2')).toMatch(/empty component/);
    expect(versionProblem('1.2.3.4')).toMatch(/4 components; at most 3/);
    expect(versionProblem('1.0b')).toMatch(/other than digits/);
    expect(versionProblem('-1')).toMatch(/other than digits/);
  });
});

describe('preflight (remote, over data the caller passes)', () => {
  const remote = (over: Partial<RemoteState> = {}): RemoteState => ({
    app: { id: '1', bundleId: 'com.example.sandbox.one' },
    builds: [],
    uploadsInFlight: [],
    closedVersions: [],
    liveVersion: null,
    ...over,
  });

  it('flags a missing app record, a used or in-flight build number, a closed train and a lower version', async () => {
    const { facts } = await findings({ version: '1.4.0', build: '57' });
    expect(remotePreflight(facts, remote())).toEqual([]);
    expect(codes(remotePreflight(facts, remote({ app: null })))).toEqual(['error:APP_RECORD_MISSING']);
    expect(codes(remotePreflight(facts, remote({ builds: ['56', '57.0'] })))).toEqual(['error:BUILD_NUMBER_USED']);
    expect(codes(remotePreflight(facts, remote({ uploadsInFlight: ['57'] })))).toEqual([
      'error:BUILD_NUMBER_IN_FLIGHT',
    ]);
    expect(codes(remotePreflight(facts, remote({ closedVersions: ['1.4'] })))).toEqual(['error:VERSION_TRAIN_CLOSED']);
    expect(codes(remotePreflight(facts, remote({ liveVersion: '1.10.0' })))).toEqual(['error:VERSION_NOT_HIGHER']);
    expect(remotePreflight(facts, remote({ liveVersion: '1.3.9', builds: ['570'] }))).toEqual([]);
  });
});
