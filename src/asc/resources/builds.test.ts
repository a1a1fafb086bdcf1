import { describe, expect, it } from 'vitest';
import { BASE, doc, page, scriptedClient } from '../../../test/helpers/asc-client.js';
import {
  addBuildToGroups,
  BUILD_FIELDS,
  buildGroupIds,
  getBuild,
  listBuilds,
  removeBuildFromGroups,
  setUsesNonExemptEncryption,
} from './builds.js';

const FIELDS = `fields[builds]=${BUILD_FIELDS.join(',')}&fields[preReleaseVersions]=version,platform`;
const prv = (id: string, version: string) => ({
  type: 'preReleaseVersions',
  id,
  attributes: { version, platform: 'IOS' },
});
const build = (id: string, version: string, prvId: string) => ({
  type: 'builds',
  id,
  attributes: { version, processingState: 'VALID' },
  relationships: { preReleaseVersion: { data: { type: 'preReleaseVersions', id: prvId } } },
});

describe('builds', () => {
  it('listBuilds sends every filter, newest first, with the pre-release version and only the fields it reads', async () => {
    const { client } = scriptedClient([
      {
        expect:
          'GET /v1/builds?limit=200&filter[app]=1&filter[preReleaseVersion.version]=2.0&filter[preReleaseVersion.platform]=IOS' +
          `&filter[version]=7&filter[processingState]=PROCESSING,VALID&sort=-uploadedDate&include=preReleaseVersion&${FIELDS}`,
        body: page([build('b7', '7', 'p2')], { included: [prv('p2', '2.0')] }),
      },
    ]);
    const r = await listBuilds(client, {
      appId: '1',
      version: '2.0',
      platform: 'IOS',
      buildNumber: '7',
      processingState: ['PROCESSING', 'VALID'],
    });
    expect(r.builds.map((b) => [b.id, b.attributes?.version])).toEqual([['b7', '7']]);
    expect(r.included).toEqual([prv('p2', '2.0')]);
    // Every attribute of a build and the one relationship read: no request for the other relationships' links.
    expect(BUILD_FIELDS).toContain('preReleaseVersion');
    expect(BUILD_FIELDS).not.toContain('betaGroups');
  });

  it('listBuilds follows pages and keeps each included pre-release version once', async () => {
    const { client } = scriptedClient([
      {
        expect: `GET /v1/builds?limit=200&filter[app]=1&sort=-uploadedDate&include=preReleaseVersion&${FIELDS}`,
        body: page([build('b2', '2', 'p1')], { included: [prv('p1', '1.0')], next: `${BASE}/v1/builds?cursor=a` }),
      },
      {
        expect: 'GET /v1/builds?cursor=a',
        body: page([build('b1', '1', 'p1')], { included: [prv('p1', '1.0')] }),
      },
    ]);
    const r = await listBuilds(client, { appId: '1' });
    expect(r.builds.map((b) => b.id)).toEqual(['b2', 'b1']);
    expect(r.included).toEqual([prv('p1', '1.0')]);
  });

  it('getBuild asks for the includes named; buildGroupIds reads the beta-group linkage (none → [])', async () => {
    const { client } = scriptedClient([
      {
        expect: 'GET /v1/builds/b1?include=betaGroups',
        body: doc(
          'builds',
          'b1',
          {},
          {
            betaGroups: {
              data: [
                { type: 'betaGroups', id: 'g1' },
                { type: 'betaGroups', id: 'g2' },
              ],
            },
          },
        ),
      },
      { expect: 'GET /v1/builds/b2?include=betaGroups', body: doc('builds', 'b2', {}, { betaGroups: {} }) },
      { expect: 'GET /v1/builds/b3?', body: doc('builds', 'b3', { version: '3' }) },
    ]);
    expect(await buildGroupIds(client, 'b1')).toEqual(['g1', 'g2']);
    expect(await buildGroupIds(client, 'b2')).toEqual([]);
    expect((await getBuild(client, 'b3')).data.attributes?.version).toBe('3');
  });

  it('setUsesNonExemptEncryption PATCHes the one attribute', async () => {
    const { client } = scriptedClient([
      {
        expect: 'PATCH /v1/builds/b1',
        json: { data: { type: 'builds', id: 'b1', attributes: { usesNonExemptEncryption: false } } },
        body: doc('builds', 'b1', { usesNonExemptEncryption: false }),
      },
    ]);
    expect((await setUsesNonExemptEncryption(client, 'b1', false)).attributes?.usesNonExemptEncryption).toBe(false);
  });

  it('adds to and removes from beta groups through the relationship, with linkage bodies', async () => {
    const linkage = {
      data: [
        { type: 'betaGroups', id: 'g1' },
        { type: 'betaGroups', id: 'g2' },
      ],
    };
    const { fetch, client } = scriptedClient([
      { expect: 'POST /v1/builds/b1/relationships/betaGroups', json: linkage, status: 204 },
      { expect: 'DELETE /v1/builds/b1/relationships/betaGroups', json: linkage, status: 204 },
    ]);
    await addBuildToGroups(client, 'b1', ['g1', 'g2']);
    await removeBuildFromGroups(client, 'b1', ['g1', 'g2']);
    expect(fetch.calls.map((c) => c.headers['content-type'])).toEqual(['application/json', 'application/json']);
  });
});
