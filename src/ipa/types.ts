import type { ProfileFacts } from './profile.js';

export type Platform = 'IOS' | 'MAC_OS' | 'TV_OS' | 'VISION_OS';

/** What ascend knows about one bundle (the app, an extension or a watch app). */
export interface BundleFacts {
  /** Path of the bundle inside the archive, e.g. `Payload/App.app/PlugIns/Share.appex`. */
  path: string;
  role: 'app' | 'extension' | 'watch-app';
  bundleId: string | null;
  shortVersion: string | null;
  buildVersion: string | null;
  name: string | null;
  executable: string | null;
  executablePresent: boolean;
  minimumOSVersion: string | null;
  deviceFamily: number[];
  platformName: string | null;
  supportedPlatforms: string[];
  sdk: string | null;
  xcode: string | null;
  /** `ITSAppUsesNonExemptEncryption`: null when the plist does not answer export compliance. */
  usesNonExemptEncryption: boolean | null;
  plistFormat: 'binary' | 'xml' | null;
  /** Set when the bundle has no Info.plist or it cannot be read. */
  plistError: string | null;
  profile: ProfileFacts | null;
  profileError: string | null;
}

export interface Finding {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  fix: string;
  /** The bundle the finding is about, when not the whole archive. */
  bundle?: string;
}

export interface IpaFacts {
  file: string;
  size: number;
  kind: 'ipa' | 'pkg';
  platform: Platform | null;
  /** A folder wrapping `Payload/` (some tools zip the export folder), or null. */
  wrapper: string | null;
  app: BundleFacts | null;
  extensions: BundleFacts[];
  watchApps: BundleFacts[];
  entries: number;
  checksums?: { md5: string; sha256: string };
}
