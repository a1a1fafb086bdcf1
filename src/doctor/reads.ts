import type { AscClient } from '../asc/http/client.js';
import { collect, type Resource } from '../asc/http/paginate.js';
import type { Build } from '../asc/resources/builds.js';

export interface BuildWithGroups {
  id: string;
  buildNumber: string;
  version: string;
  uploadedDate: string | null;
  expirationDate: string | null;
  expired: boolean;
  groups: { id: string; name: string }[];
}

const idsOf = (data: unknown): string[] =>
  Array.isArray(data) ? data.map((d: { id: string }) => d.id) : data ? [(data as { id: string }).id] : [];

/**
 * The app's newest builds with their beta groups and version train, in one paged read: only builds uploaded in
 * the last 90 days can still be live in TestFlight, and the newest come first, so `maxItems` bounds the work.
 * https://developer.apple.com/documentation/appstoreconnectapi/get-v1-builds
 */
export async function listBuildsWithGroups(
  client: AscClient,
  appId: string,
  maxItems: number,
): Promise<BuildWithGroups[]> {
  const { data, included } = await collect<Build>(
    client,
    '/v1/builds',
    {
      'filter[app]': [appId],
      sort: '-uploadedDate',
      include: 'betaGroups,preReleaseVersion',
      'fields[betaGroups]': 'name',
      'fields[preReleaseVersions]': 'version',
      // Apple includes at most 50 related records per relationship; more groups per build is unheard of.
      'limit[betaGroups]': 50,
    },
    { maxItems },
  );
  const byKey = new Map<string, Resource>(included.map((r) => [`${r.type}/${r.id}`, r]));
  const attr = (type: string, id: string, name: string) =>
    (byKey.get(`${type}/${id}`)?.attributes as Record<string, unknown> | undefined)?.[name];
  return data.map((b) => {
    const a = b.attributes ?? {};
    const train = idsOf(b.relationships?.preReleaseVersion?.data)[0];
    return {
      id: b.id,
      buildNumber: a.version ?? '?',
      version: train ? String(attr('preReleaseVersions', train, 'version') ?? '?') : '?',
      uploadedDate: a.uploadedDate ?? null,
      expirationDate: a.expirationDate ?? null,
      expired: a.expired === true,
      groups: idsOf(b.relationships?.betaGroups?.data).map((id) => ({
        id,
        name: String(attr('betaGroups', id, 'name') ?? id),
      })),
    };
  });
}
