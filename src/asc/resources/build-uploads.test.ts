import { describe, expect, it } from 'vitest';
import { doc, page, scriptedClient } from '../../../test/helpers/asc-client.js';
import { commitBuildUploadFile, getBuildUploadFile, reserveBuildUploadFile } from './build-upload-files.js';
import { createBuildUpload, deleteBuildUpload, getBuildUpload, listBuildUploads } from './build-uploads.js';

describe('build uploads', () => {
  it('lists an app’s uploads newest first, with each filter only when given', async () => {
    const u = { type: 'buildUploads', id: 'u1', attributes: { cfBundleVersion: '7', state: { state: 'COMPLETE' } } };
    const { client } = scriptedClient([
      {
        expect:
          'GET /v1/apps/1/buildUploads?limit=200&filter[cfBundleShortVersionString]=2.0&filter[cfBundleVersion]=7' +
          '&filter[platform]=IOS&filter[state]=PROCESSING,COMPLETE&sort=-uploadedDate',
        body: page([u]),
      },
      { expect: 'GET /v1/apps/1/buildUploads?limit=200&sort=-uploadedDate', body: page([]) },
    ]);
    const found = await listBuildUploads(client, '1', {
      version: '2.0',
      buildNumber: '7',
      platform: 'IOS',
      state: ['PROCESSING', 'COMPLETE'],
    });
    expect(found.map((x) => x.attributes?.state?.state)).toEqual(['COMPLETE']);
    expect(await listBuildUploads(client, '1')).toEqual([]);
  });

  it('creates the upload record (step 1) for a version and build number', async () => {
    const { fetch, client } = scriptedClient([
      {
        expect: 'POST /v1/buildUploads',
        json: {
          data: {
            type: 'buildUploads',
            attributes: { cfBundleShortVersionString: '2.0', cfBundleVersion: '7', platform: 'IOS' },
            relationships: { app: { data: { type: 'apps', id: '1' } } },
          },
        },
        status: 201,
        body: doc('buildUploads', 'u1', { state: { state: 'AWAITING_UPLOAD' } }),
      },
    ]);
    const u = await createBuildUpload(client, { appId: '1', version: '2.0', buildNumber: '7', platform: 'IOS' });
    expect(u).toMatchObject({ id: 'u1', attributes: { state: { state: 'AWAITING_UPLOAD' } } });
    expect(fetch.calls[0]!.headers.authorization).toBe('Bearer test-token');
  });

  it('reads one upload with includes, and deletes one', async () => {
    const { client } = scriptedClient([
      {
        expect: 'GET /v1/buildUploads/u1?include=build,buildUploadFiles',
        body: doc('buildUploads', 'u1', {}, { build: { data: { type: 'builds', id: 'b1' } } }),
      },
      { expect: 'GET /v1/buildUploads/u1?', body: doc('buildUploads', 'u1') },
      { expect: 'DELETE /v1/buildUploads/u1', status: 204 },
    ]);
    const full = await getBuildUpload(client, 'u1', ['build', 'buildUploadFiles']);
    expect(full.data.relationships?.build?.data?.id).toBe('b1');
    expect((await getBuildUpload(client, 'u1')).data.id).toBe('u1');
    await expect(deleteBuildUpload(client, 'u1')).resolves.toBeUndefined();
  });
});

describe('build upload files', () => {
  it('reserves the file (step 2) and returns its upload operations', async () => {
    const ops = [
      { method: 'PUT', url: 'https://upload.test/p1?sig=secret', offset: 0, length: 10, requestHeaders: [] },
    ];
    const { client } = scriptedClient([
      {
        expect: 'POST /v1/buildUploadFiles',
        json: {
          data: {
            type: 'buildUploadFiles',
            attributes: { assetType: 'ASSET', fileName: 'App.ipa', fileSize: 10, uti: 'com.apple.ipa' },
            relationships: { buildUpload: { data: { type: 'buildUploads', id: 'u1' } } },
          },
        },
        status: 201,
        body: doc('buildUploadFiles', 'f1', { uploadOperations: ops }),
      },
    ]);
    const f = await reserveBuildUploadFile(client, {
      uploadId: 'u1',
      fileName: 'App.ipa',
      fileSize: 10,
      uti: 'com.apple.ipa',
    });
    expect(f.attributes?.uploadOperations).toEqual(ops);
  });

  it('reads a file, and commits it (step 4) with the whole file’s MD5', async () => {
    const { client } = scriptedClient([
      {
        expect: 'GET /v1/buildUploadFiles/f1',
        body: doc('buildUploadFiles', 'f1', { assetDeliveryState: { state: 'AWAITING_UPLOAD' } }),
      },
      {
        expect: 'PATCH /v1/buildUploadFiles/f1',
        json: {
          data: {
            type: 'buildUploadFiles',
            id: 'f1',
            attributes: { uploaded: true, sourceFileChecksums: { file: { hash: 'abc123', algorithm: 'MD5' } } },
          },
        },
        body: doc('buildUploadFiles', 'f1', { uploaded: true, assetDeliveryState: { state: 'UPLOAD_COMPLETE' } }),
      },
    ]);
    expect((await getBuildUploadFile(client, 'f1')).attributes?.assetDeliveryState?.state).toBe('AWAITING_UPLOAD');
    expect((await commitBuildUploadFile(client, 'f1', 'abc123')).attributes?.assetDeliveryState?.state).toBe(
      'UPLOAD_COMPLETE',
    );
  });
});
