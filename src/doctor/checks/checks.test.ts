import { describe, expect, it } from 'vitest';
import type { BuildFacts, CertificateFacts, KeyFacts, ProfileFacts, VersionFacts } from '../facts.js';
import { DAY_MS } from '../types.js';
import { checkAgreements } from './agreements.js';
import { checkBuilds } from './builds.js';
import { checkCertificates } from './certificates.js';
import { runChecks } from './index.js';
import { checkKey } from './key.js';
import { checkProfiles } from './profiles.js';
import { checkVersions } from './versions.js';

const NOW = Date.UTC(2027, 2, 10, 12, 0, 0);
const at = (deltaMs: number) => new Date(NOW + deltaMs).toISOString();
const codes = (fs: { code: string }[]) => fs.map((f) => f.code);

const key = (over: Partial<KeyFacts> = {}): KeyFacts => ({
  keyId: 'ABC123DEFG',
  kind: 'team',
  status: 'accepted',
  role: 'App Manager',
  canManageUsers: false,
  canProvision: true,
  ...over,
});

const cert = (expires: string | null, keyHeld = true): CertificateFacts => ({
  id: 'CERT1',
  name: 'Apple Distribution: Team',
  certificateType: 'DISTRIBUTION',
  serialNumber: '1A2B',
  expirationDate: expires,
  keyHeld,
});

const profile = (expires: string | null, state = 'ACTIVE'): ProfileFacts => ({
  id: 'PROF1',
  name: 'ascend com.example.app AppStore',
  profileType: 'IOS_APP_STORE',
  profileState: state,
  expirationDate: expires,
});

const build = (over: Partial<BuildFacts> = {}): BuildFacts => ({
  id: 'B1',
  app: 'com.example.app',
  version: '1.2.0',
  buildNumber: '42',
  uploadedDate: at(-80 * DAY_MS),
  expirationDate: at(10 * DAY_MS),
  expired: false,
  groups: [{ id: 'G1', name: 'Internal Testers' }],
  ...over,
});

describe('key and agreements', () => {
  it('an accepted App Manager team key is clean', () => {
    expect(checkKey(key())).toEqual([]);
    expect(checkAgreements(key())).toEqual([]);
  });

  it('a refused key is an error; an individual key or one without provisioning is a warning', () => {
    expect(checkKey(key({ status: 'rejected' }))).toMatchObject([
      { code: 'KEY_REJECTED', severity: 'error', subject: 'API key ABC123DEFG (team)' },
    ]);
    expect(checkKey(key({ kind: 'individual', canProvision: undefined }))).toMatchObject([
      { code: 'KEY_INDIVIDUAL', severity: 'warning' },
    ]);
    const narrow = checkKey(key({ canProvision: false, role: 'Developer or narrower' }));
    expect(narrow).toMatchObject([{ code: 'KEY_CANNOT_PROVISION', severity: 'warning' }]);
    expect(narrow[0]!.message).toContain('Developer or narrower');
  });

  it('the agreement 403 is one error naming Apple’s code and who accepts it', () => {
    const f = checkAgreements(key({ status: 'agreement' }));
    expect(f).toMatchObject([{ code: 'AGREEMENT_MISSING', severity: 'error' }]);
    expect(f[0]!.message).toContain('FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED');
    expect(f[0]!.fix).toContain('Account Holder');
    expect(checkKey(key({ status: 'agreement' }))).toEqual([]);
  });
});

describe('certificates: 30-day window', () => {
  it.each([
    ['expired a day ago', -DAY_MS, ['CERTIFICATE_EXPIRED']],
    ['expiring right now', 0, ['CERTIFICATE_EXPIRED']],
    ['expiring in a second', 1000, ['CERTIFICATE_EXPIRING']],
    ['expiring in exactly 30 days', 30 * DAY_MS, ['CERTIFICATE_EXPIRING']],
    ['expiring in 30 days and a second', 30 * DAY_MS + 1000, []],
    ['expiring in a year', 365 * DAY_MS, []],
  ])('%s', (_name, delta, expected) => {
    expect(codes(checkCertificates([cert(at(delta))], NOW, 30))).toEqual(expected);
  });

  it('says when, and whether the key is held here (which changes the fix)', () => {
    const [held] = checkCertificates([cert(at(20 * DAY_MS), true)], NOW, 30);
    expect(held).toMatchObject({ severity: 'warning', expiresAt: at(20 * DAY_MS) });
    expect(held!.message).toContain('in 20 days (2027-03-30)');
    expect(held!.message).toContain('held on this machine');
    expect(held!.fix).toContain('ascend signing ensure');
    const [notHeld] = checkCertificates([cert(at(20 * DAY_MS), false)], NOW, 30);
    expect(notHeld!.message).toContain('not on this machine');
    expect(notHeld!.fix).toContain('machine that holds its key');
    const [expired] = checkCertificates([cert(at(-3 * DAY_MS))], NOW, 30);
    expect(expired!.message).toContain('3 days ago');
    expect(expired!.fix).toContain('ascend signing revoke CERT1');
  });

  it('a certificate without a readable date is skipped, not guessed', () => {
    expect(checkCertificates([cert(null), cert('soon')], NOW, 30)).toEqual([]);
  });
});

describe('profiles: 30-day window and Apple’s INVALID state', () => {
  it.each([
    ['expired', -1000, 'ACTIVE', ['PROFILE_EXPIRED']],
    ['expired and INVALID (one finding, not two)', -DAY_MS, 'INVALID', ['PROFILE_EXPIRED']],
    ['INVALID before its date', 200 * DAY_MS, 'INVALID', ['PROFILE_INVALID']],
    ['within 30 days', 30 * DAY_MS, 'ACTIVE', ['PROFILE_EXPIRING']],
    ['outside 30 days', 30 * DAY_MS + 1, 'ACTIVE', []],
  ])('%s', (_name, delta, state, expected) => {
    expect(codes(checkProfiles([profile(at(delta), state)], NOW, 30))).toEqual(expected);
  });
});

describe('TestFlight builds: 14-day window, only builds still in groups', () => {
  it.each([
    ['expiring in 10 days', 10 * DAY_MS, ['BUILD_EXPIRING']],
    ['expiring in exactly 14 days', 14 * DAY_MS, ['BUILD_EXPIRING']],
    ['expiring in 14 days and a second', 14 * DAY_MS + 1000, []],
  ])('%s, in a group', (_name, delta, expected) => {
    expect(codes(checkBuilds([build({ expirationDate: at(delta) })], NOW, 14))).toEqual(expected);
  });

  it('a build in no group is not reported, however close its expiry', () => {
    expect(checkBuilds([build({ groups: [] })], NOW, 14)).toEqual([]);
    expect(checkBuilds([build({ groups: [], expired: true, expirationDate: at(-DAY_MS) })], NOW, 14)).toEqual([]);
  });

  it('the message names the groups and the date; the fix names the build and app', () => {
    const [f] = checkBuilds(
      [
        build({
          groups: [
            { id: 'G1', name: 'QA' },
            { id: 'G2', name: 'Beta' },
          ],
        }),
      ],
      NOW,
      14,
    );
    expect(f!.message).toContain('"QA", "Beta"');
    expect(f!.message).toContain('in 10 days (2027-03-20)');
    expect(f!.fix).toContain('--remove-build B1');
  });

  it('a group whose newest build expired is an error; an older expired build behind a current one is not', () => {
    const old = build({
      id: 'OLD',
      buildNumber: '1',
      uploadedDate: at(-120 * DAY_MS),
      expirationDate: at(-30 * DAY_MS),
      expired: true,
    });
    const fresh = build({ id: 'NEW', buildNumber: '2', uploadedDate: at(-DAY_MS), expirationDate: at(89 * DAY_MS) });
    expect(checkBuilds([old, fresh], NOW, 14)).toEqual([]);
    const stale = checkBuilds([old], NOW, 14);
    expect(stale).toMatchObject([
      { code: 'GROUP_BUILD_EXPIRED', severity: 'error', subject: 'beta group "Internal Testers" of com.example.app' },
    ]);
    // Past its date but not yet flagged by Apple: the date decides.
    const lagging = build({ expirationDate: at(-1000), expired: false });
    expect(codes(checkBuilds([lagging], NOW, 14))).toEqual(['GROUP_BUILD_EXPIRED']);
  });
});

describe('App Store versions stuck in a state', () => {
  const version = (state: string, createdDaysAgo = 1): VersionFacts => ({
    id: 'V1',
    app: 'com.example.app',
    versionString: '2.0',
    platform: 'IOS',
    state,
    createdDate: at(-createdDaysAgo * DAY_MS),
  });

  it.each([
    ['REJECTED', 1, ['VERSION_REJECTED']],
    ['METADATA_REJECTED', 1, ['VERSION_REJECTED']],
    ['INVALID_BINARY', 1, ['VERSION_REJECTED']],
    ['PENDING_DEVELOPER_RELEASE', 1, ['VERSION_WAITING_ON_DEVELOPER']],
    ['WAITING_FOR_EXPORT_COMPLIANCE', 1, ['VERSION_WAITING_ON_DEVELOPER']],
    ['WAITING_FOR_REVIEW', 29, []],
    ['WAITING_FOR_REVIEW', 30, ['VERSION_STALLED']],
    ['PROCESSING_FOR_DISTRIBUTION', 6, []],
    ['PROCESSING_FOR_DISTRIBUTION', 7, ['VERSION_STALLED']],
    ['READY_FOR_DISTRIBUTION', 400, []],
    ['PREPARE_FOR_SUBMISSION', 400, []],
  ])('%s, created %i days ago', (state, days, expected) => {
    expect(codes(checkVersions([version(state, days)], NOW))).toEqual(expected);
  });

  it('severity follows the code: a rejection is an error, a wait is a warning', () => {
    expect(checkVersions([version('REJECTED')], NOW)[0]!.severity).toBe('error');
    expect(checkVersions([version('PENDING_DEVELOPER_RELEASE')], NOW)[0]!.severity).toBe('warning');
  });
});

describe('runChecks', () => {
  it('orders errors first, then by how soon things expire', () => {
    const findings = runChecks({
      now: NOW,
      key: key(),
      certificates: [cert(at(25 * DAY_MS))],
      profiles: [profile(at(-DAY_MS), 'INVALID')],
      builds: [build({ expirationDate: at(5 * DAY_MS) })],
      versions: [],
      apps: ['com.example.app'],
    });
    expect(codes(findings)).toEqual(['PROFILE_EXPIRED', 'BUILD_EXPIRING', 'CERTIFICATE_EXPIRING']);
  });

  it('a clean account has no findings', () => {
    expect(
      runChecks({
        now: NOW,
        key: key(),
        certificates: [cert(at(200 * DAY_MS))],
        profiles: [profile(at(200 * DAY_MS))],
        builds: [build({ expirationDate: at(60 * DAY_MS) })],
        versions: [],
        apps: ['com.example.app'],
      }),
    ).toEqual([]);
  });
});
