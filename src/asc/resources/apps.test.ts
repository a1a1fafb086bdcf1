import { describe, expect, it } from 'vitest';
import { appleError, BASE, doc, page, scriptedClient } from '../../../test/helpers/asc-client.js';
import { findAppByBundleId, getApp, listApps, resolveApp } from './apps.js';

const FIELDS = 'fields[apps]=name,bundleId,sku,primaryLocale';
const app = (id: string, bundleId: string) => ({ type: 'apps', id, attributes: { bundleId, name: bundleId } });

describe('apps', () => {
  it('listApps filters by bundle ID, names its fields, pages through and caps at maxItems', async () => {
    const { client } = scriptedClient([
      {
        expect: `GET /v1/apps?limit=200&filter[bundleId]=a.b,c.d&${FIELDS}`,
        body: page([app('1', 'a.b')], { next: `${BASE}/v1/apps?cursor=2` }),
      },
      { expect: 'GET /v1/apps?cursor=2', body: page([app('2', 'c.d')]) },
    ]);
    expect((await listApps(client, { bundleId: ['a.b', 'c.d'] })).map((a) => a.id)).toEqual(['1', '2']);

    const capped = scriptedClient([
      {
        expect: `GET /v1/apps?limit=1&${FIELDS}`,
        body: page([app('1', 'a.b')], { next: `${BASE}/v1/apps?cursor=2` }),
      },
    ]);
    expect(await listApps(capped.client, { maxItems: 1 })).toHaveLength(1);
  });

  it('getApp reads one app by id, escaping the id into the path', async () => {
    const { client } = scriptedClient([
      { expect: `GET /v1/apps/12%2F3?${FIELDS}`, body: doc('apps', '12/3', { bundleId: 'a.b' }) },
    ]);
    expect(await getApp(client, '12/3')).toMatchObject({ id: '12/3', attributes: { bundleId: 'a.b' } });
  });

  it('findAppByBundleId keeps only an exact match: the filter is not documented as exact', async () => {
    const { client } = scriptedClient([
      {
        expect: `GET /v1/apps?limit=200&filter[bundleId]=com.x&${FIELDS}`,
        body: page([app('9', 'com.x.widget'), app('8', 'com.x')]),
      },
      { expect: `GET /v1/apps?limit=200&filter[bundleId]=com.y&${FIELDS}`, body: page([app('7', 'com.y.z')]) },
    ]);
    expect((await findAppByBundleId(client, 'com.x'))?.id).toBe('8');
    expect(await findAppByBundleId(client, 'com.y')).toBeUndefined();
  });

  it('resolveApp takes a numeric Apple ID or a bundle ID; a missing one is APP_NOT_FOUND (exit 4)', async () => {
    const { client } = scriptedClient([
      { expect: `GET /v1/apps/1000000001?${FIELDS}`, body: doc('apps', '1000000001', { bundleId: 'a.b' }) },
      { expect: `GET /v1/apps?limit=200&filter[bundleId]=a.b&${FIELDS}`, body: page([app('1000000001', 'a.b')]) },
      { expect: `GET /v1/apps/42?${FIELDS}`, status: 404, body: appleError(404, 'NOT_FOUND') },
      { expect: `GET /v1/apps?limit=200&filter[bundleId]=no.such&${FIELDS}`, body: page([]) },
      { expect: `GET /v1/apps/43?${FIELDS}`, status: 403, body: appleError(403, 'FORBIDDEN_ERROR') },
    ]);
    expect((await resolveApp(client, '1000000001')).id).toBe('1000000001');
    expect((await resolveApp(client, 'a.b')).id).toBe('1000000001');
    await expect(resolveApp(client, '42')).rejects.toMatchObject({
      code: 'APP_NOT_FOUND',
      exitCode: 4,
      message: 'no app with Apple ID 42 is visible to this key',
    });
    await expect(resolveApp(client, 'no.such')).rejects.toMatchObject({
      code: 'APP_NOT_FOUND',
      message: 'no app record with bundle ID no.such exists in App Store Connect',
    });
    // Anything but a 404 is not "missing": it surfaces as Apple's error.
    await expect(resolveApp(client, '43')).rejects.toMatchObject({ code: 'ASC_FORBIDDEN', status: 403 });
  });
});
