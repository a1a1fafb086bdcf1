import type { AscClient } from '../asc/http/client.js';
import { AscApiError } from '../asc/http/errors.js';
import { listAppStoreVersions } from '../asc/resources/app-store-versions.js';
import { type App, listApps, resolveApp } from '../asc/resources/apps.js';
import { listCertificates } from '../asc/resources/certificates.js';
import { listProfiles } from '../asc/resources/profiles.js';
import type { Clock } from '../core/clock.js';
import type { CertificateFacts, DoctorFacts, KeyFacts, ProfileFacts } from './facts.js';
import { probeRole } from './probe.js';
import { listBuildsWithGroups } from './reads.js';

export interface GatherInput {
  client: AscClient;
  key: { keyId: string; individual: boolean };
  /** Ids of the certificates whose private keys this machine holds. */
  heldCertificateIds: () => Promise<string[]>;
  /** `--app`: a bundle ID or Apple ID; otherwise every app the key sees, up to `maxApps`. */
  app?: string;
  clock: Clock;
  maxApps?: number;
  maxBuildsPerApp?: number;
}

/**
 * "Now" for expiry: App Store Connect's own clock, from the `Date` header of its answer, because Apple decides
 * when a certificate or build has expired and a CI machine's clock can be off; the local clock without one.
 */
function serverNow(headers: Headers, clock: Clock): number {
  const t = Date.parse(headers.get('date') ?? '');
  return Number.isFinite(t) ? t : clock.now();
}

/** The first request proves the key: a 401 or the agreement 403 ends the gathering there. */
async function firstContact(input: GatherInput): Promise<{ status: KeyFacts['status']; now: number }> {
  try {
    const res = await input.client.request({
      method: 'GET',
      path: '/v1/apps',
      query: { limit: 1, 'fields[apps]': 'bundleId' },
    });
    return { status: 'accepted', now: serverNow(res.headers, input.clock) };
  } catch (err) {
    if (err instanceof AscApiError && err.isUnauthorized) return { status: 'rejected', now: input.clock.now() };
    if (err instanceof AscApiError && err.isAgreementMissing) return { status: 'agreement', now: input.clock.now() };
    throw err;
  }
}

async function signingFacts(
  input: GatherInput,
): Promise<{ certificates: CertificateFacts[]; profiles: ProfileFacts[] }> {
  const held = new Set(await input.heldCertificateIds());
  const certificates = (await listCertificates(input.client)).map((c) => ({
    id: c.id,
    name: c.attributes?.name ?? c.id,
    certificateType: c.attributes?.certificateType ?? 'UNKNOWN',
    serialNumber: c.attributes?.serialNumber ?? '?',
    expirationDate: c.attributes?.expirationDate ?? null,
    keyHeld: held.has(c.id),
  }));
  const profiles = (await listProfiles(input.client)).map((p) => ({
    id: p.id,
    name: p.attributes?.name ?? p.id,
    profileType: p.attributes?.profileType ?? 'UNKNOWN',
    profileState: p.attributes?.profileState ?? 'UNKNOWN',
    expirationDate: p.attributes?.expirationDate ?? null,
  }));
  return { certificates, profiles };
}

async function appFacts(input: GatherInput, apps: App[]): Promise<Pick<DoctorFacts, 'builds' | 'versions'>> {
  const builds: DoctorFacts['builds'] = [];
  const versions: DoctorFacts['versions'] = [];
  for (const app of apps) {
    const name = app.attributes?.bundleId ?? app.id;
    for (const b of await listBuildsWithGroups(input.client, app.id, input.maxBuildsPerApp ?? 200)) {
      builds.push({ ...b, app: name });
    }
    for (const v of await listAppStoreVersions(input.client, app.id)) {
      const a = v.attributes ?? {};
      versions.push({
        id: v.id,
        app: name,
        versionString: a.versionString ?? '?',
        platform: a.platform ?? '?',
        state: a.appVersionState ?? a.appStoreState ?? 'UNKNOWN',
        createdDate: a.createdDate ?? null,
      });
    }
  }
  return { builds, versions };
}

/** Reads everything the checks judge, with as few requests as the answers allow. */
export async function gatherFacts(input: GatherInput): Promise<DoctorFacts> {
  const kind = input.key.individual ? 'individual' : 'team';
  const first = await firstContact(input);
  const key: KeyFacts = { keyId: input.key.keyId, kind, status: first.status };
  const empty = { builds: [], versions: [], apps: [] };
  if (first.status !== 'accepted') return { now: first.now, key, ...empty };
  const role = await probeRole(input.client, input.key.individual);
  Object.assign(key, role);
  const signing = role.canProvision ? await signingFacts(input) : {};
  const apps = input.app
    ? [await resolveApp(input.client, input.app)]
    : await listApps(input.client, { maxItems: input.maxApps ?? 200 });
  return {
    now: first.now,
    key,
    ...signing,
    ...(await appFacts(input, apps)),
    apps: apps.map((a) => a.attributes?.bundleId ?? a.id),
  };
}
