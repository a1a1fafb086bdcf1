import type { AscClient } from '../http/client.js';
import { collect } from '../http/paginate.js';
import type { Schemas } from './common.js';

export type Profile = Schemas['Profile'];
export type ProfileType = NonNullable<NonNullable<Profile['attributes']>['profileType']>;

const FIELDS = 'name,platform,profileType,profileState,uuid,createdDate,expirationDate,bundleId,certificates';

/**
 * Profiles of the team, optionally filtered, without their (large) content.
 * https://developer.apple.com/documentation/appstoreconnectapi/get-v1-profiles
 */
export async function listProfiles(
  client: AscClient,
  f: { name?: string; profileType?: ProfileType[] } = {},
): Promise<Profile[]> {
  const { data } = await collect<Profile>(client, '/v1/profiles', {
    'filter[name]': f.name ? [f.name] : undefined,
    'filter[profileType]': f.profileType,
    'fields[profiles]': FIELDS,
    include: 'bundleId,certificates',
  });
  return data;
}

/** Profiles made for one bundle ID. https://developer.apple.com/documentation/appstoreconnectapi/get-v1-bundleids-_id_-profiles */
export async function listProfilesOfBundleId(client: AscClient, bundleIdId: string): Promise<Profile[]> {
  const { data } = await collect<Profile>(client, `/v1/bundleIds/${encodeURIComponent(bundleIdId)}/profiles`, {
    'fields[profiles]': 'name,platform,profileType,profileState,uuid,createdDate,expirationDate',
  });
  return data;
}

/** One profile with its content and relationships. https://developer.apple.com/documentation/appstoreconnectapi/get-v1-profiles-_id_ */
export async function getProfile(client: AscClient, id: string): Promise<Profile> {
  const res = await client.request<Schemas['ProfileResponse']>({
    method: 'GET',
    path: `/v1/profiles/${encodeURIComponent(id)}`,
    query: { include: 'bundleId,certificates' },
  });
  return res.body.data;
}

/** Certificate ids a profile embeds. https://developer.apple.com/documentation/appstoreconnectapi/get-v1-profiles-_id_-certificates */
export async function profileCertificateIds(client: AscClient, id: string): Promise<string[]> {
  const { data } = await collect<{ id: string }>(client, `/v1/profiles/${encodeURIComponent(id)}/certificates`, {
    'fields[certificates]': 'serialNumber',
  });
  return data.map((c) => c.id);
}

/**
 * Creates a profile. A create: never re-sent blindly; Apple refuses a second profile with the same name, so a
 * lost answer is settled by looking the name up.
 * https://developer.apple.com/documentation/appstoreconnectapi/post-v1-profiles
 */
export async function createProfile(
  client: AscClient,
  p: { name: string; profileType: ProfileType; bundleIdId: string; certificateIds: string[]; deviceIds?: string[] },
): Promise<Profile> {
  const res = await client.request<Schemas['ProfileResponse']>({
    method: 'POST',
    path: '/v1/profiles',
    body: {
      data: {
        type: 'profiles',
        attributes: { name: p.name, profileType: p.profileType },
        relationships: {
          bundleId: { data: { type: 'bundleIds', id: p.bundleIdId } },
          certificates: { data: p.certificateIds.map((id) => ({ type: 'certificates' as const, id })) },
          ...(p.deviceIds?.length
            ? { devices: { data: p.deviceIds.map((id) => ({ type: 'devices' as const, id })) } }
            : {}),
        },
      },
    } satisfies Schemas['ProfileCreateRequest'],
  });
  return res.body.data;
}

/** Profiles cannot be edited, only deleted and made again. https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-profiles-_id_ */
export async function deleteProfile(client: AscClient, id: string): Promise<void> {
  await client.request({ method: 'DELETE', path: `/v1/profiles/${encodeURIComponent(id)}` });
}

/**
 * Profiles of the team with each one's bundle identifier (`com.example.app`), read from the included bundle
 * IDs of the same list call: the relationship alone names only the bundle ID resource's opaque id.
 * https://developer.apple.com/documentation/appstoreconnectapi/get-v1-profiles
 */
export async function listProfilesWithIdentifiers(
  client: AscClient,
): Promise<{ profile: Profile; bundleIdentifier: string | null }[]> {
  const { data, included } = await collect<Profile>(client, '/v1/profiles', {
    'fields[profiles]': FIELDS,
    'fields[bundleIds]': 'identifier',
    include: 'bundleId,certificates',
  });
  const identifiers = new Map(
    included
      .filter((r) => r.type === 'bundleIds')
      .map((r) => [r.id, typeof r.attributes?.identifier === 'string' ? r.attributes.identifier : null]),
  );
  return data.map((profile) => {
    const b = profile.relationships?.bundleId?.data;
    return { profile, bundleIdentifier: b && !Array.isArray(b) ? (identifiers.get(b.id) ?? null) : null };
  });
}
