import { describe, expect, it } from 'vitest';
import { type Scripted, scriptedFetch } from '../../test/helpers/fake-fetch.js';
import { createAscClient } from '../asc/http/client.js';
import { FakeClock } from '../core/clock.js';
import { gatherFacts } from './gather.js';

const LOCAL = Date.UTC(2027, 0, 1);
const APPLE_DATE = 'Mon, 15 Feb 2027 08:00:00 GMT';

function setup(script: Scripted[], key = { keyId: 'ABC123DEFG', individual: false }, app?: string) {
  const fetch = scriptedFetch(script);
  const clock = new FakeClock(LOCAL);
  const client = createAscClient({
    baseUrl: 'https://api.example.test',
    tokens: { token: async () => 'token', invalidate: () => {} },
    fetch,
    clock,
    sleep: clock.sleep,
    random: () => 0,
  });
  const run = () => gatherFacts({ client, key, heldCertificateIds: async () => ['C1'], app, clock });
  return { fetch, run };
}

const page = (data: unknown[], included: unknown[] = []) => ({ data, included, links: { self: 'x' } });
const notAuthorized = { errors: [{ status: '401', code: 'NOT_AUTHORIZED', title: 'no' }] };
const forbiddenRole = {
  errors: [
    {
      status: '403',
      code: 'FORBIDDEN_ERROR',
      title: 'forbidden',
      detail: 'The API key in use does not allow this request',
    },
  ],
};
const agreement = {
  errors: [{ status: '403', code: 'FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED', title: 'agreement' }],
};

describe('gatherFacts', () => {
  it('a refused key stops after the first request (the client retries a 401 once with a fresh token)', async () => {
    const { fetch, run } = setup([
      { expect: 'GET /v1/apps', status: 401, body: notAuthorized },
      { expect: 'GET /v1/apps', status: 401, body: notAuthorized },
    ]);
    const facts = await run();
    expect(facts.key).toEqual({ keyId: 'ABC123DEFG', kind: 'team', status: 'rejected' });
    expect(facts.now).toBe(LOCAL);
    expect(fetch.remaining()).toBe(0);
    expect(fetch.violations).toEqual([]);
  });

  it('the agreement 403 stops after the first request too', async () => {
    const { fetch, run } = setup([{ expect: 'GET /v1/apps', status: 403, body: agreement }]);
    expect((await run()).key.status).toBe('agreement');
    expect(fetch.violations).toEqual([]);
  });

  it('takes "now" from Apple’s Date header; an individual key skips provisioning; builds carry group names and train', async () => {
    const { fetch, run } = setup(
      [
        { expect: 'GET /v1/apps', body: page([]), headers: { date: APPLE_DATE } },
        { expect: 'GET /v1/users', status: 403, body: forbiddenRole },
        {
          expect: 'GET /v1/apps/1000000001',
          body: { data: { type: 'apps', id: '1000000001', attributes: { bundleId: 'com.x' } } },
        },
        {
          expect: 'GET /v1/builds',
          body: page(
            [
              {
                type: 'builds',
                id: 'B1',
                attributes: {
                  version: '42',
                  uploadedDate: '2027-01-01T00:00:00Z',
                  expirationDate: '2027-04-01T00:00:00Z',
                  expired: false,
                },
                relationships: {
                  betaGroups: { data: [{ type: 'betaGroups', id: 'G1' }] },
                  preReleaseVersion: { data: { type: 'preReleaseVersions', id: 'P1' } },
                },
              },
            ],
            [
              { type: 'betaGroups', id: 'G1', attributes: { name: 'QA' } },
              { type: 'preReleaseVersions', id: 'P1', attributes: { version: '1.2.0' } },
            ],
          ),
        },
        {
          expect: 'GET /v1/apps/1000000001/appStoreVersions',
          body: page([
            {
              type: 'appStoreVersions',
              id: 'V1',
              attributes: {
                versionString: '1.2.0',
                platform: 'IOS',
                appVersionState: 'IN_REVIEW',
                createdDate: '2027-01-02T00:00:00Z',
              },
            },
          ]),
        },
      ],
      { keyId: 'IND1234567', individual: true },
      '1000000001',
    );
    const facts = await run();
    expect(fetch.violations).toEqual([]);
    expect(fetch.remaining()).toBe(0);
    expect(facts.now).toBe(Date.parse(APPLE_DATE));
    expect(facts.key).toMatchObject({
      kind: 'individual',
      status: 'accepted',
      canProvision: false,
      role: 'Developer or narrower',
    });
    expect(facts.certificates).toBeUndefined();
    expect(facts.builds).toEqual([
      {
        id: 'B1',
        app: 'com.x',
        version: '1.2.0',
        buildNumber: '42',
        uploadedDate: '2027-01-01T00:00:00Z',
        expirationDate: '2027-04-01T00:00:00Z',
        expired: false,
        groups: [{ id: 'G1', name: 'QA' }],
      },
    ]);
    expect(facts.versions).toMatchObject([{ state: 'IN_REVIEW', versionString: '1.2.0', app: 'com.x' }]);
    const buildsCall = new URL(fetch.calls[3]!.url);
    expect(buildsCall.searchParams.get('include')).toBe('betaGroups,preReleaseVersion');
    expect(buildsCall.searchParams.get('sort')).toBe('-uploadedDate');
  });

  it('a team key with provisioning reads certificates (noting held keys) and profiles; no Date header → local clock', async () => {
    const { fetch, run } = setup([
      { expect: 'GET /v1/apps', body: page([]), headers: { date: 'not a date' } },
      { expect: 'GET /v1/users', status: 403, body: forbiddenRole },
      { expect: 'GET /v1/bundleIds', body: page([]) },
      {
        expect: 'GET /v1/certificates',
        body: page([
          {
            type: 'certificates',
            id: 'C1',
            attributes: {
              name: 'Dist',
              certificateType: 'DISTRIBUTION',
              serialNumber: '01',
              expirationDate: '2027-06-01T00:00:00Z',
            },
          },
          {
            type: 'certificates',
            id: 'C2',
            attributes: {
              name: 'Dev',
              certificateType: 'DEVELOPMENT',
              serialNumber: '02',
              expirationDate: '2027-06-01T00:00:00Z',
            },
          },
        ]),
      },
      {
        expect: 'GET /v1/profiles',
        body: page([
          {
            type: 'profiles',
            id: 'P1',
            attributes: {
              name: 'p',
              profileType: 'IOS_APP_STORE',
              profileState: 'ACTIVE',
              expirationDate: '2027-06-01T00:00:00Z',
            },
          },
        ]),
      },
      { expect: 'GET /v1/apps', body: page([]) },
    ]);
    const facts = await run();
    expect(fetch.violations).toEqual([]);
    expect(facts.now).toBe(LOCAL);
    expect(facts.key).toMatchObject({ role: 'App Manager', canProvision: true });
    expect(facts.certificates?.map((c) => [c.id, c.keyHeld])).toEqual([
      ['C1', true],
      ['C2', false],
    ]);
    expect(facts.profiles).toEqual([
      {
        id: 'P1',
        name: 'p',
        profileType: 'IOS_APP_STORE',
        profileState: 'ACTIVE',
        expirationDate: '2027-06-01T00:00:00Z',
      },
    ]);
    expect(facts.apps).toEqual([]);
  });
});
