import type { AscClient } from '../http/client.js';
import { collect } from '../http/paginate.js';
import type { Platform, Schemas } from './common.js';

export type ReviewSubmission = Schemas['ReviewSubmission'];
export type ReviewSubmissionItem = Schemas['ReviewSubmissionItem'];

/** `filter[app]` is required by Apple. https://developer.apple.com/documentation/appstoreconnectapi/get-v1-reviewsubmissions */
export async function listReviewSubmissions(
  client: AscClient,
  appId: string,
  platform: Platform,
): Promise<ReviewSubmission[]> {
  return (
    await collect<ReviewSubmission>(client, '/v1/reviewSubmissions', {
      'filter[app]': [appId],
      'filter[platform]': [platform],
    })
  ).data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-reviewsubmissions */
export async function createReviewSubmission(
  client: AscClient,
  appId: string,
  platform: Platform,
): Promise<ReviewSubmission> {
  const res = await client.request<Schemas['ReviewSubmissionResponse']>({
    method: 'POST',
    path: '/v1/reviewSubmissions',
    body: {
      data: {
        type: 'reviewSubmissions',
        attributes: { platform },
        relationships: { app: { data: { type: 'apps', id: appId } } },
      },
    } satisfies Schemas['ReviewSubmissionCreateRequest'],
  });
  return res.body.data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-reviewsubmissions-_id_-items */
export async function listReviewSubmissionItems(
  client: AscClient,
  submissionId: string,
): Promise<ReviewSubmissionItem[]> {
  return (
    await collect<ReviewSubmissionItem>(client, `/v1/reviewSubmissions/${encodeURIComponent(submissionId)}/items`, {
      include: 'appStoreVersion',
    })
  ).data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-reviewsubmissionitems */
export async function addVersionToSubmission(
  client: AscClient,
  submissionId: string,
  versionId: string,
): Promise<ReviewSubmissionItem> {
  const res = await client.request<Schemas['ReviewSubmissionItemResponse']>({
    method: 'POST',
    path: '/v1/reviewSubmissionItems',
    body: {
      data: {
        type: 'reviewSubmissionItems',
        relationships: {
          reviewSubmission: { data: { type: 'reviewSubmissions', id: submissionId } },
          appStoreVersion: { data: { type: 'appStoreVersions', id: versionId } },
        },
      },
    } satisfies Schemas['ReviewSubmissionItemCreateRequest'],
  });
  return res.body.data;
}

/** Sends the submission to App Review. https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-reviewsubmissions-_id_ */
export async function submitReviewSubmission(client: AscClient, id: string): Promise<ReviewSubmission> {
  const res = await client.request<Schemas['ReviewSubmissionResponse']>({
    method: 'PATCH',
    path: `/v1/reviewSubmissions/${encodeURIComponent(id)}`,
    body: {
      data: { type: 'reviewSubmissions', id, attributes: { submitted: true } },
    } satisfies Schemas['ReviewSubmissionUpdateRequest'],
  });
  return res.body.data;
}
