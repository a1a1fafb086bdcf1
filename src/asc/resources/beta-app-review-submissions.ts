import type { AscClient } from '../http/client.js';
import { collect } from '../http/paginate.js';
import type { Schemas } from './common.js';

export type BetaAppReviewSubmission = Schemas['BetaAppReviewSubmission'];

/** `filter[build]` is required by Apple. https://developer.apple.com/documentation/appstoreconnectapi/get-v1-betaappreviewsubmissions */
export async function listBetaAppReviewSubmissions(
  client: AscClient,
  buildId: string,
): Promise<BetaAppReviewSubmission[]> {
  return (
    await collect<BetaAppReviewSubmission>(client, '/v1/betaAppReviewSubmissions', { 'filter[build]': [buildId] })
  ).data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-betaappreviewsubmissions */
export async function createBetaAppReviewSubmission(
  client: AscClient,
  buildId: string,
): Promise<BetaAppReviewSubmission> {
  const res = await client.request<Schemas['BetaAppReviewSubmissionResponse']>({
    method: 'POST',
    path: '/v1/betaAppReviewSubmissions',
    body: {
      data: { type: 'betaAppReviewSubmissions', relationships: { build: { data: { type: 'builds', id: buildId } } } },
    } satisfies Schemas['BetaAppReviewSubmissionCreateRequest'],
  });
  return res.body.data;
}
