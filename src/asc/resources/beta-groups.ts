import type { AscClient } from '../http/client.js';
import { collect } from '../http/paginate.js';
import type { Schemas } from './common.js';

export type BetaGroup = Schemas['BetaGroup'];

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-betagroups */
export async function listBetaGroups(
  client: AscClient,
  f: { appId: string; name?: string; isInternal?: boolean },
): Promise<BetaGroup[]> {
  const { data } = await collect<BetaGroup>(client, '/v1/betaGroups', {
    'filter[app]': [f.appId],
    'filter[name]': f.name ? [f.name] : undefined,
    'filter[isInternalGroup]': f.isInternal === undefined ? undefined : [String(f.isInternal)],
  });
  return data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-betagroups-_id_ */
export async function getBetaGroup(client: AscClient, id: string): Promise<BetaGroup> {
  const res = await client.request<Schemas['BetaGroupResponse']>({
    method: 'GET',
    path: `/v1/betaGroups/${encodeURIComponent(id)}`,
  });
  return res.body.data;
}
