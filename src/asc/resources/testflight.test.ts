import { describe, expect, it } from 'vitest';
import { doc, page, scriptedClient } from '../../../test/helpers/asc-client.js';
import { createBetaAppReviewSubmission, listBetaAppReviewSubmissions } from './beta-app-review-submissions.js';
import {
  createBetaBuildLocalization,
  listBetaBuildLocalizations,
  updateBetaBuildLocalization,
} from './beta-build-localizations.js';
import { getBetaGroup, listBetaGroups } from './beta-groups.js';
import { listPreReleaseVersions } from './pre-release-versions.js';

const buildRel = { build: { data: { type: 'builds', id: 'b1' } } };

describe('beta groups', () => {
  it('lists an app’s groups by name and internal flag (false is sent, not dropped), and reads one', async () => {
    const g = { type: 'betaGroups', id: 'g1', attributes: { name: 'QA', isInternalGroup: false } };
    const { client } = scriptedClient([
      {
        expect: 'GET /v1/betaGroups?limit=200&filter[app]=1&filter[name]=QA&filter[isInternalGroup]=false',
        body: page([g]),
      },
      { expect: 'GET /v1/betaGroups?limit=200&filter[app]=1', body: page([g]) },
      { expect: 'GET /v1/betaGroups/g1', body: doc('betaGroups', 'g1', { name: 'QA' }) },
    ]);
    expect(await listBetaGroups(client, { appId: '1', name: 'QA', isInternal: false })).toEqual([g]);
    expect(await listBetaGroups(client, { appId: '1' })).toHaveLength(1);
    expect((await getBetaGroup(client, 'g1')).attributes?.name).toBe('QA');
  });
});

describe('"What to Test" localizations', () => {
  it('lists a build’s texts, creates one for a locale and updates one', async () => {
    const { client } = scriptedClient([
      {
        expect: 'GET /v1/betaBuildLocalizations?limit=200&filter[build]=b1',
        body: page([{ type: 'betaBuildLocalizations', id: 'l1', attributes: { locale: 'en-US', whatsNew: 'old' } }]),
      },
      {
        expect: 'POST /v1/betaBuildLocalizations',
        json: {
          data: {
            type: 'betaBuildLocalizations',
            attributes: { locale: 'de-DE', whatsNew: 'Neu' },
            relationships: buildRel,
          },
        },
        status: 201,
        body: doc('betaBuildLocalizations', 'l2', { locale: 'de-DE', whatsNew: 'Neu' }),
      },
      {
        expect: 'PATCH /v1/betaBuildLocalizations/l1',
        json: { data: { type: 'betaBuildLocalizations', id: 'l1', attributes: { whatsNew: 'new' } } },
        body: doc('betaBuildLocalizations', 'l1', { locale: 'en-US', whatsNew: 'new' }),
      },
    ]);
    expect((await listBetaBuildLocalizations(client, 'b1')).map((l) => l.attributes?.whatsNew)).toEqual(['old']);
    expect((await createBetaBuildLocalization(client, 'b1', 'de-DE', 'Neu')).id).toBe('l2');
    expect((await updateBetaBuildLocalization(client, 'l1', 'new')).attributes?.whatsNew).toBe('new');
  });
});

describe('beta app review submissions', () => {
  it('lists a build’s submissions (filter[build] is required) and submits a build', async () => {
    const { client } = scriptedClient([
      { expect: 'GET /v1/betaAppReviewSubmissions?limit=200&filter[build]=b1', body: page([]) },
      {
        expect: 'POST /v1/betaAppReviewSubmissions',
        json: { data: { type: 'betaAppReviewSubmissions', relationships: buildRel } },
        status: 201,
        body: doc('betaAppReviewSubmissions', 's1', { betaReviewState: 'WAITING_FOR_REVIEW' }),
      },
    ]);
    expect(await listBetaAppReviewSubmissions(client, 'b1')).toEqual([]);
    expect((await createBetaAppReviewSubmission(client, 'b1')).attributes?.betaReviewState).toBe('WAITING_FOR_REVIEW');
  });
});

describe('pre-release versions', () => {
  it('lists an app’s version trains, by version and platform when given', async () => {
    const p = { type: 'preReleaseVersions', id: 'p1', attributes: { version: '2.0', platform: 'IOS' } };
    const { client } = scriptedClient([
      {
        expect: 'GET /v1/preReleaseVersions?limit=200&filter[app]=1&filter[version]=2.0&filter[platform]=IOS',
        body: page([p]),
      },
      { expect: 'GET /v1/preReleaseVersions?limit=200&filter[app]=1', body: page([]) },
    ]);
    expect(await listPreReleaseVersions(client, { appId: '1', version: '2.0', platform: 'IOS' })).toEqual([p]);
    expect(await listPreReleaseVersions(client, { appId: '1' })).toEqual([]);
  });
});
