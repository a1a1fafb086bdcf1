import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inspectIpa } from '../src/ipa/inspect.js';
import { parsePlist, parsePlistDict } from '../src/ipa/plist.js';
import { parseProfile } from '../src/ipa/profile.js';
import { runCli } from './helpers/cli.js';
import { hasThirdParty, thirdParty } from './helpers/third-party.js';

/** The real third-party files, read in place; facts as listed in shared/fixtures/third-party/SOURCES.md. */
describe.skipIf(!hasThirdParty)('third-party IPAs, profiles and plists', () => {
  const IPAS: Record<
    string,
    {
      bundleId: string;
      version: string;
      build: string;
      minOS: string;
      family: number[];
      plist: 'binary' | 'xml';
      platform: string;
      wrapper?: string;
      profile: string | null;
      team?: string;
      extensions?: string[];
      watch?: string[];
    }
  > = {
    'icyleaf-app-info_iphone.ipa': {
      bundleId: 'com.icyleaf.AppInfoDemo',
      version: '1.2.3',
      build: '5',
      minOS: '9.3',
      family: [1],
      plist: 'binary',
      platform: 'IOS',
      profile: 'development',
      team: '5PJA6N5A3B',
    },
    'icyleaf-app-info_ipad.ipa': {
      bundleId: 'com.icyleaf.bundle',
      version: '1.0',
      build: '1',
      minOS: '9.3',
      family: [2],
      plist: 'binary',
      platform: 'IOS',
      profile: 'app-store',
      team: '5PJA6N5A3B',
    },
    'icyleaf-app-info_embedded.ipa': {
      bundleId: 'com.icyleaf.test.Demo',
      version: '1.0',
      build: '1',
      minOS: '14.3',
      family: [1, 2],
      plist: 'xml',
      platform: 'IOS',
      profile: 'enterprise',
      team: '72LA85G59H',
      extensions: ['com.icyleaf.test.Demo.Notification'],
    },
    'icyleaf-app-info_apple-tv.ipa': {
      bundleId: 'com.etan.tv.BilibiliLive.tvOS',
      version: '1.0',
      build: '1',
      minOS: '16.0',
      family: [3],
      plist: 'binary',
      platform: 'TV_OS',
      profile: 'development',
    },
    'fastlane_very-capable-app.ipa': {
      bundleId: 'org.fastlane.very-capable-app',
      version: '1.0',
      build: '1',
      minOS: '11.2',
      family: [1, 2],
      plist: 'binary',
      platform: 'IOS',
      profile: 'development',
      team: 'TestFixture',
    },
    'fastlane_ContainsWatchApp.ipa': {
      bundleId: 'com.example.Sample',
      version: '1.2.0',
      build: '1',
      minOS: '8.0',
      family: [1, 2],
      plist: 'binary',
      platform: 'IOS',
      wrapper: 'ContainsWatchApp',
      profile: null,
      watch: ['com.example.Sample.watchkitapp'],
    },
    'fastlane_iOSAppOnly.ipa': {
      bundleId: 'com.example.Sample',
      version: '1.2.0',
      build: '1',
      minOS: '8.0',
      family: [1, 2],
      plist: 'binary',
      platform: 'IOS',
      wrapper: 'iOSAppOnly',
      profile: null,
    },
    'pliney_pliney-test.ipa': {
      bundleId: 'computer.versus.pliney-test',
      version: '1.0',
      build: '1',
      minOS: '8.2',
      family: [1],
      plist: 'binary',
      platform: 'IOS',
      profile: 'development',
      team: 'UL736KYQR9',
    },
  };

  it('covers every IPA in the folder', () => {
    expect(readdirSync(thirdParty('ipa')).sort()).toEqual(Object.keys(IPAS).sort());
  });

  for (const [file, want] of Object.entries(IPAS)) {
    it(`reads ${file}`, async () => {
      const f = await inspectIpa(thirdParty('ipa', file));
      expect(f.app).toMatchObject({
        bundleId: want.bundleId,
        shortVersion: want.version,
        buildVersion: want.build,
        minimumOSVersion: want.minOS,
        deviceFamily: want.family,
        plistFormat: want.plist,
      });
      expect(f.platform).toBe(want.platform);
      expect(f.wrapper).toBe(want.wrapper ?? null);
      expect(f.app?.profile?.kind ?? null).toBe(want.profile);
      if (want.team) expect(f.app?.profile?.teamId).toBe(want.team);
      // fastlane's placeholder profile was re-signed with a self-signed 'TestFixture' certificate (SOURCES.md).
      if (want.profile) expect(f.app?.profile?.signerTrusted, file).toBe(file !== 'fastlane_very-capable-app.ipa');
      expect(f.extensions.map((e) => e.bundleId)).toEqual(want.extensions ?? []);
      expect(f.watchApps.map((e) => e.bundleId)).toEqual(want.watch ?? []);
    });
  }

  const PROFILES: Record<string, { kind: string; name: string; team: string; expires: string; devices?: number }> = {
    'icyleaf-app-info_ios_adhoc.mobileprovision': {
      kind: 'ad-hoc',
      name: 'iOS Full AdHoc',
      team: 'WKR87TTKML',
      expires: '2020-10-24',
      devices: 1,
    },
    'icyleaf-app-info_ios_appstore.mobileprovision': {
      kind: 'app-store',
      name: 'iOS Full AppStore',
      team: 'WKR87TTKML',
      expires: '2020-10-24',
      devices: 0,
    },
    'icyleaf-app-info_ios_development.mobileprovision': {
      kind: 'development',
      name: 'iOS Full Development',
      team: 'WKR87TTKML',
      expires: '2021-07-21',
      devices: 1,
    },
    'icyleaf-app-info_macos_appstore.provisionprofile': {
      kind: 'app-store',
      name: 'macOS Full appstore',
      team: 'WKR87TTKML',
      expires: '2020-10-24',
    },
    'icyleaf-app-info_macos_development.provisionprofile': {
      kind: 'development',
      name: 'macOS Full development',
      team: 'WKR87TTKML',
      expires: '2021-07-21',
      devices: 1,
    },
    'icyleaf-app-info_profile.mobileprovision': {
      kind: 'development',
      name: 'iOS Team Provisioning Profile: com.icyleaf.iOS',
      team: 'KJSWUGJ39S',
      expires: '2019-09-23',
    },
    'icyleaf-app-info_NotificationService-appex_embedded.mobileprovision': {
      kind: 'ad-hoc',
      name: 'match AdHoc com.haohaozhu.shaijia.NotificationService',
      team: 'WKR87TTKML',
      expires: '2021-10-26',
      devices: 90,
    },
    'fastlane_test.mobileprovision': {
      kind: 'app-store',
      name: 'tools.fastlane.app AppStore',
      team: '439BBM9367',
      expires: '2016-11-07',
    },
    'fastlane_AppStore_tools.fastlane.app.mobileprovision': {
      kind: 'app-store',
      name: 'match AppStore tools.fastlane.app 1449198835',
      team: '439BBM9367',
      expires: '2016-12-03',
    },
  };

  it('covers every profile in the folder', () => {
    expect(readdirSync(thirdParty('mobileprovision')).sort()).toEqual(Object.keys(PROFILES).sort());
  });

  for (const [file, want] of Object.entries(PROFILES)) {
    it(`reads ${file}`, async () => {
      const p = await parseProfile(readFileSync(thirdParty('mobileprovision', file)), file);
      // Every one is Apple's, including those carrying the legacy root instead of Apple Root CA.
      expect(p).toMatchObject({
        kind: want.kind,
        name: want.name,
        teamId: want.team,
        signatureValid: true,
        signerTrusted: true,
        signer: expect.stringMatching(/^(Apple iPhone OS|Mac OS X) Provisioning Profile Signing$/),
      });
      expect(p.expirationDate?.slice(0, 10)).toBe(want.expires);
      if (want.devices !== undefined) expect(p.devices).toBe(want.devices);
      expect(p.entitlements).toMatchObject({
        [p.platforms.includes('OSX') ? 'com.apple.application-identifier' : 'application-identifier']:
          p.applicationIdentifier,
      });
    });
  }

  it('reads every plist in plist/ (binary and XML twins agree)', () => {
    for (const f of readdirSync(thirdParty('plist'))) {
      const { value } = parsePlist(readFileSync(thirdParty('plist', f)), f);
      expect(value, f).toBeTruthy();
    }
    const bin = parsePlistDict(readFileSync(thirdParty('plist', 'rust-plist_binary.plist')), 'b').value;
    const xml = parsePlistDict(readFileSync(thirdParty('plist', 'rust-plist_xml.plist')), 'x').value;
    expect(bin.Author).toBe(xml.Author);
    expect(bin.Lines).toEqual(xml.Lines);
  });

  const MALFORMED_IPAS: Record<string, string> = {
    'fastlane_not-an-ipa.ipa': 'IPA_NOT_ZIP',
    'fastlane_no-app-bundle.ipa': 'IPA_NO_APP',
    'isign_NotAnApp.ipa': 'IPA_NO_APP',
    'fastlane_IncorrectlySigned.ipa': 'PREFLIGHT_FAILED',
    'fastlane_with_no_swift.ipa': 'PREFLIGHT_FAILED',
    'fastlane_with_swift_twice.ipa': 'PREFLIGHT_FAILED',
  };

  it('every malformed IPA exits 6 with its specific code through the CLI, never a crash', async () => {
    const files = readdirSync(thirdParty('malformed')).filter((f) => f.endsWith('.ipa'));
    expect(files.sort()).toEqual(Object.keys(MALFORMED_IPAS).sort());
    const runs = await Promise.all(files.map((f) => runCli(['ipa', 'inspect', thirdParty('malformed', f)])));
    runs.forEach((r, i) => {
      const f = files[i]!;
      expect(r.code, `${f}: ${r.stderr}`).toBe(6);
      expect(r.stderr, f).toContain(`[${MALFORMED_IPAS[f]}]`);
      expect(r.stderr, f).not.toMatch(/\n\s+at /);
    });
  });

  it('every malformed profile and plist gives a specific error', async () => {
    const profiles = readdirSync(thirdParty('malformed')).filter((f) => /provision/.test(f));
    expect(profiles.length).toBe(8);
    for (const f of profiles) {
      await expect(parseProfile(readFileSync(thirdParty('malformed', f)), f), f).rejects.toMatchObject({
        code: expect.stringMatching(/^(PROFILE|PLIST)_INVALID$/),
      });
    }
    for (const f of readdirSync(thirdParty('malformed')).filter((x) => x.endsWith('.plist'))) {
      expect(() => parsePlistDict(readFileSync(thirdParty('malformed', f)), f), f).toThrow(
        expect.objectContaining({ code: 'PLIST_INVALID' }),
      );
    }
  });
});
