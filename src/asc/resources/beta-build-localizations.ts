import type { AscClient } from '../http/client.js';
import { collect } from '../http/paginate.js';
import type { Schemas } from './common.js';

export type BetaBuildLocalization = Schemas['BetaBuildLocalization'];

/** "What to Test" texts of a build. https://developer.apple.com/documentation/appstoreconnectapi/get-v1-betabuildlocalizations */
export async function listBetaBuildLocalizations(client: AscClient, buildId: string): Promise<BetaBuildLocalization[]> {
  return (await collect<BetaBuildLocalization>(client, '/v1/betaBuildLocalizations', { 'filter[build]': [buildId] }))
    .data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-betabuildlocalizations */
export async function createBetaBuildLocalization(
  client: AscClient,
  buildId: string,
  locale: string,
  whatsNew: string,
): Promise<BetaBuildLocalization> {
  const res = await client.request<Schemas['BetaBuildLocalizationResponse']>({
    method: 'POST',
    path: '/v1/betaBuildLocalizations',
    body: {
      data: {
        type: 'betaBuildLocalizations',
        attributes: { locale, whatsNew },
        relationships: { build: { data: { type: 'builds', id: buildId } } },
      },
    } satisfies Schemas['BetaBuildLocalizationCreateRequest'],
  });
  return res.body.data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-betabuildlocalizations-_id_ */
export async function updateBetaBuildLocalization(
  client: AscClient,
  id: string,
  whatsNew: string,
): Promise<BetaBuildLocalization> {
  const res = await client.request<Schemas['BetaBuildLocalizationResponse']>({
    method: 'PATCH',
    path: `/v1/betaBuildLocalizations/${encodeURIComponent(id)}`,
    body: {
      data: { type: 'betaBuildLocalizations', id, attributes: { whatsNew } },
    } satisfies Schemas['BetaBuildLocalizationUpdateRequest'],
  });
  return res.body.data;
}
