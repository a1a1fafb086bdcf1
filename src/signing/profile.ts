import { AscApiError } from '../asc/http/errors.js';
import { writeOnce } from '../asc/http/reconcile.js';
import type { BundleId } from '../asc/resources/bundle-ids.js';
import {
  createProfile,
  deleteProfile,
  getProfile,
  listProfiles,
  listProfilesOfBundleId,
  type Profile,
} from '../asc/resources/profiles.js';
import { AscendError } from '../core/errors.js';
import type { HeldCertificate } from './key-store.js';
import { type ProfileContent, readProfileContent } from './profile-content.js';
import { printable } from './text.js';
import type { SigningContext } from './types.js';

const DAY_MS = 86_400_000;

export interface EnsuredProfile {
  profile: Profile;
  content: Buffer;
  facts: ProfileContent;
  created: boolean;
}

/** The name ascend gives its App Store profiles; Apple wants names unique per team. */
export const profileNameFor = (identifier: string) => `ascend ${identifier} AppStore`;

/**
 * An active App Store profile for the bundle ID that embeds our certificate and lasts beyond the renewal
 * window: reused if there is one, otherwise made. Apple has no PATCH for profiles, so a stale profile of ours
 * (same name) is deleted and made again; a profile of that name for another bundle ID is never touched.
 */
export async function ensureProfile(
  ctx: SigningContext,
  bundle: BundleId,
  cert: HeldCertificate,
): Promise<EnsuredProfile> {
  const horizon = ctx.clock.now() + ctx.renewWithinDays * DAY_MS;
  const candidates = (await listProfilesOfBundleId(ctx.client, bundle.id)).filter(
    (p) =>
      p.attributes?.profileType === 'IOS_APP_STORE' &&
      p.attributes.profileState === 'ACTIVE' &&
      Date.parse(p.attributes.expirationDate ?? '') > horizon,
  );
  for (const c of candidates) {
    const found = await checked(ctx, await getProfile(ctx.client, c.id), cert, false);
    if (found) return { ...found, created: false };
  }
  const name = profileNameFor(ctx.bundleIdentifier);
  for (const same of await listProfiles(ctx.client, { name })) {
    const owner = relId(same, 'bundleId');
    if (same.attributes?.name !== name) continue;
    if (owner && owner !== bundle.id) {
      throw new AscendError(
        'SIGNING_PROFILE_MISMATCH',
        `the profile "${name}" (${same.id}) belongs to another bundle ID, not ${ctx.bundleIdentifier}`,
      );
    }
    await deleteProfile(ctx.client, same.id);
    ctx.onWrite(`deleted stale profile ${same.id}`);
  }
  const made = await writeOnce(
    () =>
      createProfile(ctx.client, {
        name,
        profileType: 'IOS_APP_STORE',
        bundleIdId: bundle.id,
        certificateIds: [cert.certificateId],
      }),
    async () => (await listProfiles(ctx.client, { name })).find((p) => relId(p, 'bundleId') === bundle.id),
  ).catch((err) => {
    if (err instanceof AscApiError && err.status === 409)
      throw new AscendError(
        'SIGNING_PROFILE_MISMATCH',
        `Apple refused the profile "${name}": ${printable(err.errors[0]?.detail)}`,
        {
          cause: err,
        },
      );
    throw err;
  });
  ctx.onWrite(`created profile ${made.id}`);
  try {
    const ok = await checked(ctx, await getProfile(ctx.client, made.id), cert, true);
    return { ...ok!, created: true };
  } catch (err) {
    // Nothing half-made is left behind: a profile we cannot use is deleted again.
    await deleteProfile(ctx.client, made.id).then(
      () => ctx.onWrite(`deleted unusable profile ${made.id}`),
      () => ctx.onWarning(`profile ${made.id} could not be deleted; delete it in the portal`),
    );
    throw err;
  }
}

function relId(p: Profile, name: 'bundleId'): string | undefined {
  const data = p.relationships?.[name]?.data;
  return data && !Array.isArray(data) ? data.id : undefined;
}

/**
 * Checks a profile's content against what was asked: our bundle ID (exact, no wildcard), our certificate
 * embedded, App Store kind (no devices, no get-task-allow), not expired. A reused candidate that fails is
 * skipped; a freshly made one that fails is an error (Apple answered something else than asked).
 */
async function checked(
  ctx: SigningContext,
  p: Profile,
  cert: HeldCertificate,
  strict: boolean,
): Promise<Omit<EnsuredProfile, 'created'> | undefined> {
  const content = Buffer.from(p.attributes?.profileContent ?? '', 'base64');
  const facts = readProfileContent(content, `profile ${p.id}`);
  const expected = facts.teamId ? `${facts.teamId}.${ctx.bundleIdentifier}` : undefined;
  const problems: string[] = [];
  if (!expected || facts.applicationIdentifier !== expected)
    problems.push(
      `it is for ${printable(facts.applicationIdentifier ?? 'no application identifier')}, not ${ctx.bundleIdentifier}`,
    );
  const ours = Buffer.from(cert.certificateContent, 'base64');
  if (!facts.certificatesDer.some((d) => d.equals(ours)))
    problems.push(`it does not embed certificate ${cert.certificateId}`);
  if (facts.devices > 0 || facts.getTaskAllow !== false) problems.push('it is not an App Store profile');
  if (!facts.expirationDate || facts.expirationDate.getTime() <= ctx.clock.now()) problems.push('it has expired');
  if (!problems.length) return { profile: p, content, facts };
  if (strict)
    throw new AscendError(
      'SIGNING_PROFILE_MISMATCH',
      `profile ${p.id} from Apple cannot be used: ${problems.join('; ')}`,
    );
  return undefined;
}
