import { describe, expect, it } from 'vitest';
import { doc, page, scriptedClient } from '../../../test/helpers/asc-client.js';
import {
  attachBuild,
  CLOSED_VERSION_STATES,
  createAppStoreVersion,
  createPhasedRelease,
  getAppStoreVersion,
  listAppStoreVersions,
  updateAppStoreVersionRelease,
} from './app-store-versions.js';

describe('App Store versions', () => {
  it('lists an app’s versions, filtered by platform and version string when given', async () => {
    const v = {
      type: 'appStoreVersions',
      id: 'v1',
      attributes: { versionString: '2.0', appVersionState: 'PREPARE_FOR_SUBMISSION' },
    };
    const { client } = scriptedClient([
      {
        expect: 'GET /v1/apps/1/appStoreVersions?limit=200&filter[platform]=IOS&filter[versionString]=2.0',
        body: page([v]),
      },
      { expect: 'GET /v1/apps/1/appStoreVersions?limit=200', body: page([]) },
    ]);
    expect(await listAppStoreVersions(client, '1', { platform: 'IOS', versionString: '2.0' })).toEqual([v]);
    expect(await listAppStoreVersions(client, '1')).toEqual([]);
  });

  it('creates a version with its release type, the date only when scheduled', async () => {
    const base = { platform: 'IOS', versionString: '2.0' };
    const rel = { app: { data: { type: 'apps', id: '1' } } };
    const { client } = scriptedClient([
      {
        expect: 'POST /v1/appStoreVersions',
        json: {
          data: { type: 'appStoreVersions', attributes: { ...base, releaseType: 'MANUAL' }, relationships: rel },
        },
        status: 201,
        body: doc('appStoreVersions', 'v1', { ...base, releaseType: 'MANUAL' }),
      },
      {
        expect: 'POST /v1/appStoreVersions',
        json: {
          data: {
            type: 'appStoreVersions',
            attributes: { ...base, releaseType: 'SCHEDULED', earliestReleaseDate: '2026-03-01T10:00:00Z' },
            relationships: rel,
          },
        },
        status: 201,
        body: doc('appStoreVersions', 'v2', { ...base, releaseType: 'SCHEDULED' }),
      },
    ]);
    const input = { appId: '1', platform: 'IOS', versionString: '2.0' } as const;
    expect((await createAppStoreVersion(client, { ...input, releaseType: 'MANUAL' })).id).toBe('v1');
    const scheduled = await createAppStoreVersion(client, {
      ...input,
      releaseType: 'SCHEDULED',
      earliestReleaseDate: '2026-03-01T10:00:00Z',
    });
    expect(scheduled.attributes?.releaseType).toBe('SCHEDULED');
  });

  it('changes the release type with a PATCH that carries the id', async () => {
    const { client } = scriptedClient([
      {
        expect: 'PATCH /v1/appStoreVersions/v1',
        json: { data: { type: 'appStoreVersions', id: 'v1', attributes: { releaseType: 'AFTER_APPROVAL' } } },
        body: doc('appStoreVersions', 'v1', { releaseType: 'AFTER_APPROVAL' }),
      },
    ]);
    expect((await updateAppStoreVersionRelease(client, 'v1', 'AFTER_APPROVAL')).attributes?.releaseType).toBe(
      'AFTER_APPROVAL',
    );
  });

  it('reads a version with its build and phased release, attaches a build, and creates an inactive phased release', async () => {
    const { client } = scriptedClient([
      {
        expect: 'GET /v1/appStoreVersions/v1?include=build,appStoreVersionPhasedRelease',
        body: doc('appStoreVersions', 'v1', {}, { build: { data: { type: 'builds', id: 'b1' } } }),
      },
      {
        expect: 'PATCH /v1/appStoreVersions/v1/relationships/build',
        json: { data: { type: 'builds', id: 'b1' } },
        status: 204,
      },
      {
        expect: 'POST /v1/appStoreVersionPhasedReleases',
        json: {
          data: {
            type: 'appStoreVersionPhasedReleases',
            attributes: { phasedReleaseState: 'INACTIVE' },
            relationships: { appStoreVersion: { data: { type: 'appStoreVersions', id: 'v1' } } },
          },
        },
        status: 201,
        body: doc('appStoreVersionPhasedReleases', 'p1', { phasedReleaseState: 'INACTIVE' }),
      },
    ]);
    expect((await getAppStoreVersion(client, 'v1')).data.relationships?.build?.data?.id).toBe('b1');
    await expect(attachBuild(client, 'v1', 'b1')).resolves.toBeUndefined();
    expect((await createPhasedRelease(client, 'v1')).id).toBe('p1');
  });

  it('names the states whose train takes no more builds', () => {
    expect(CLOSED_VERSION_STATES.has('READY_FOR_DISTRIBUTION')).toBe(true);
    expect(CLOSED_VERSION_STATES.has('PREPARE_FOR_SUBMISSION')).toBe(false);
  });
});
