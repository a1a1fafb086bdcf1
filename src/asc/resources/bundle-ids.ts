import type { AscClient } from '../http/client.js';
import { collect } from '../http/paginate.js';
import type { Schemas } from './common.js';

export type BundleId = Schemas['BundleId'];
export type BundleIdPlatform = Schemas['BundleIdPlatform'];
export type BundleIdCapability = Schemas['BundleIdCapability'];
export type CapabilityType = Schemas['CapabilityType'];

/**
 * Registered bundle IDs with exactly this identifier. `filter[identifier]` is not documented as an exact
 * match (it may match prefixes), so the answer is compared client-side.
 * https://developer.apple.com/documentation/appstoreconnectapi/get-v1-bundleids
 */
export async function findBundleIds(client: AscClient, identifier: string): Promise<BundleId[]> {
  const { data } = await collect<BundleId>(client, '/v1/bundleIds', {
    'filter[identifier]': [identifier],
    'fields[bundleIds]': 'name,platform,identifier,seedId',
  });
  return data.filter((b) => b.attributes?.identifier === identifier);
}

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-bundleids */
export async function createBundleId(
  client: AscClient,
  attrs: { identifier: string; name: string; platform: BundleIdPlatform },
): Promise<BundleId> {
  const res = await client.request<Schemas['BundleIdResponse']>({
    method: 'POST',
    path: '/v1/bundleIds',
    body: { data: { type: 'bundleIds', attributes: attrs } } satisfies Schemas['BundleIdCreateRequest'],
  });
  return res.body.data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-bundleids-_id_ */
export async function deleteBundleId(client: AscClient, id: string): Promise<void> {
  await client.request({ method: 'DELETE', path: `/v1/bundleIds/${encodeURIComponent(id)}` });
}

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-bundleids-_id_-bundleidcapabilities */
export async function listBundleIdCapabilities(client: AscClient, bundleIdId: string): Promise<BundleIdCapability[]> {
  const { data } = await collect<BundleIdCapability>(
    client,
    `/v1/bundleIds/${encodeURIComponent(bundleIdId)}/bundleIdCapabilities`,
  );
  return data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-bundleidcapabilities */
export async function enableCapability(
  client: AscClient,
  bundleIdId: string,
  capabilityType: CapabilityType,
): Promise<BundleIdCapability> {
  const res = await client.request<Schemas['BundleIdCapabilityResponse']>({
    method: 'POST',
    path: '/v1/bundleIdCapabilities',
    body: {
      data: {
        type: 'bundleIdCapabilities',
        attributes: { capabilityType },
        relationships: { bundleId: { data: { type: 'bundleIds', id: bundleIdId } } },
      },
    } satisfies Schemas['BundleIdCapabilityCreateRequest'],
  });
  return res.body.data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-bundleidcapabilities-_id_ */
export async function disableCapability(client: AscClient, capabilityId: string): Promise<void> {
  await client.request({ method: 'DELETE', path: `/v1/bundleIdCapabilities/${encodeURIComponent(capabilityId)}` });
}
