import { randomUUID } from 'node:crypto';
import { build } from 'plist';
import type { Rec } from '../store.js';
import type { Ca } from './ca.js';

/**
 * The `.mobileprovision` the simulator issues: an XML plist with the keys Apple's profiles carry
 * (TN3125 calls the format undocumented; these are the keys Xcode and the inspectors read), CMS-signed by the
 * simulator's CA. The entitlements come from the bundle ID's capabilities.
 */

/** Entitlements each capability adds to a distribution profile (the common ones; others add none here). */
const CAPABILITY_ENTITLEMENTS: Record<string, (team: string) => Record<string, unknown>> = {
  PUSH_NOTIFICATIONS: () => ({ 'aps-environment': 'production' }),
  ICLOUD: (team) => ({
    'com.apple.developer.icloud-container-identifiers': [],
    'com.apple.developer.ubiquity-kvstore-identifier': `${team}.*`,
  }),
  APP_GROUPS: () => ({ 'com.apple.security.application-groups': [] }),
  ASSOCIATED_DOMAINS: () => ({ 'com.apple.developer.associated-domains': '*' }),
  GAME_CENTER: () => ({ 'com.apple.developer.game-center': true }),
  HEALTHKIT: () => ({ 'com.apple.developer.healthkit': true, 'com.apple.developer.healthkit.access': [] }),
  HOMEKIT: () => ({ 'com.apple.developer.homekit': true }),
  APPLE_PAY: () => ({ 'com.apple.developer.in-app-payments': [] }),
  SIRIKIT: () => ({ 'com.apple.developer.siri': true }),
  NFC_TAG_READING: () => ({ 'com.apple.developer.nfc.readersession.formats': ['TAG'] }),
  WALLET: (team) => ({ 'com.apple.developer.pass-type-identifiers': [`${team}.*`] }),
  APPLE_ID_AUTH: () => ({ 'com.apple.developer.applesignin': ['Default'] }),
  NETWORK_EXTENSIONS: () => ({ 'com.apple.developer.networking.networkextension': [] }),
  PERSONAL_VPN: () => ({ 'com.apple.developer.networking.vpn.api': ['allow-vpn'] }),
  ACCESS_WIFI_INFORMATION: () => ({ 'com.apple.developer.networking.wifi-info': true }),
  DATA_PROTECTION: () => ({ 'com.apple.developer.default-data-protection': 'NSFileProtectionComplete' }),
};

const PLATFORMS: Record<string, string[]> = { IOS: ['iOS'], MAC: ['OSX'], TVOS: ['tvOS'] };

export function platformOf(profileType: string): string[] {
  const head = profileType.split('_')[0] ?? 'IOS';
  return PLATFORMS[head] ?? ['iOS'];
}

export const isDistribution = (profileType: string) => /_(STORE|ADHOC|INHOUSE|DIRECT)$/.test(profileType);
export const needsDevices = (profileType: string) => /_(DEVELOPMENT|ADHOC)$/.test(profileType);

export interface ProfileInput {
  name: string;
  profileType: string;
  team: { id: string; name: string };
  bundleId: Rec;
  capabilities: Rec[];
  certificatesDer: Buffer[];
  devices: string[];
  now: number;
  expires: number;
}

export function buildProfile(ca: Ca, p: ProfileInput): { uuid: string; content: Buffer } {
  const uuid = randomUUID();
  const identifier = String(p.bundleId.attributes.identifier);
  const entitlements: Record<string, unknown> = {
    'application-identifier': `${p.team.id}.${identifier}`,
    'com.apple.developer.team-identifier': p.team.id,
    'keychain-access-groups': [`${p.team.id}.*`],
    'get-task-allow': !isDistribution(p.profileType),
  };
  if (/_STORE$/.test(p.profileType)) entitlements['beta-reports-active'] = true;
  for (const cap of p.capabilities) {
    Object.assign(entitlements, CAPABILITY_ENTITLEMENTS[String(cap.attributes.capabilityType)]?.(p.team.id) ?? {});
  }
  if (!isDistribution(p.profileType) && entitlements['aps-environment'])
    entitlements['aps-environment'] = 'development';
  const dict: Record<string, unknown> = {
    AppIDName: String(p.bundleId.attributes.name),
    ApplicationIdentifierPrefix: [p.team.id],
    CreationDate: new Date(p.now),
    Platform: platformOf(p.profileType),
    IsXcodeManaged: false,
    DeveloperCertificates: p.certificatesDer,
    Entitlements: entitlements,
    ExpirationDate: new Date(p.expires),
    Name: p.name,
    TeamIdentifier: [p.team.id],
    TeamName: p.team.name,
    TimeToLive: Math.max(0, Math.round((p.expires - p.now) / 86_400_000)),
    UUID: uuid,
    Version: 1,
  };
  if (needsDevices(p.profileType)) dict.ProvisionedDevices = p.devices;
  if (/_INHOUSE$/.test(p.profileType)) dict.ProvisionsAllDevices = true;
  const xml = build(dict as Parameters<typeof build>[0]);
  return { uuid, content: ca.signCms(Buffer.from(xml, 'utf8')) };
}
