import { describe, expect, it } from 'vitest';
import { doc, page, scriptedClient } from '../../../test/helpers/asc-client.js';
import {
  addVersionToSubmission,
  createReviewSubmission,
  listReviewSubmissionItems,
  listReviewSubmissions,
  submitReviewSubmission,
} from './review-submissions.js';

describe('review submissions', () => {
  it('lists an app’s submissions for a platform (filter[app] is required)', async () => {
    const s = { type: 'reviewSubmissions', id: 's1', attributes: { state: 'READY_FOR_REVIEW', platform: 'IOS' } };
    const { client } = scriptedClient([
      { expect: 'GET /v1/reviewSubmissions?limit=200&filter[app]=1&filter[platform]=IOS', body: page([s]) },
    ]);
    expect(await listReviewSubmissions(client, '1', 'IOS')).toEqual([s]);
  });

  it('creates a submission, adds the version as an item, lists items with their version, and submits', async () => {
    const item = {
      type: 'reviewSubmissionItems',
      id: 'i1',
      relationships: { appStoreVersion: { data: { type: 'appStoreVersions', id: 'v1' } } },
    };
    const { client } = scriptedClient([
      {
        expect: 'POST /v1/reviewSubmissions',
        json: {
          data: {
            type: 'reviewSubmissions',
            attributes: { platform: 'IOS' },
            relationships: { app: { data: { type: 'apps', id: '1' } } },
          },
        },
        status: 201,
        body: doc('reviewSubmissions', 's1', { state: 'READY_FOR_REVIEW' }),
      },
      {
        expect: 'POST /v1/reviewSubmissionItems',
        json: {
          data: {
            type: 'reviewSubmissionItems',
            relationships: {
              reviewSubmission: { data: { type: 'reviewSubmissions', id: 's1' } },
              appStoreVersion: { data: { type: 'appStoreVersions', id: 'v1' } },
            },
          },
        },
        status: 201,
        body: { data: item },
      },
      { expect: 'GET /v1/reviewSubmissions/s1/items?limit=200&include=appStoreVersion', body: page([item]) },
      {
        expect: 'PATCH /v1/reviewSubmissions/s1',
        json: { data: { type: 'reviewSubmissions', id: 's1', attributes: { submitted: true } } },
        body: doc('reviewSubmissions', 's1', { state: 'WAITING_FOR_REVIEW' }),
      },
    ]);
    expect((await createReviewSubmission(client, '1', 'IOS')).id).toBe('s1');
    expect((await addVersionToSubmission(client, 's1', 'v1')).id).toBe('i1');
    const items = await listReviewSubmissionItems(client, 's1');
    expect(items.map((i) => i.relationships?.appStoreVersion?.data?.id)).toEqual(['v1']);
    expect((await submitReviewSubmission(client, 's1')).attributes?.state).toBe('WAITING_FOR_REVIEW');
  });
});
