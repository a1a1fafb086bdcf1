import { describe, expect, it } from 'vitest';
import { type Scripted, scriptedFetch } from '../../test/helpers/fake-fetch.js';
import { createAscClient } from '../asc/http/client.js';
import type { BuildUpload } from '../asc/resources/build-uploads.js';
import { FakeClock, seededRandom } from '../core/clock.js';
import { assertNotFailed, commitFile, partNumbers } from './upload-remote.js';

const BASE = 'https://asc.test';
const MD5 = '9e107d9d372bb6826bd81d3542a419d6';

function setup(script: Scripted[]) {
  const fetch = scriptedFetch(script);
  const clock = new FakeClock();
  const client = createAscClient({
    baseUrl: BASE,
    tokens: { token: async () => 'token', invalidate: () => {} },
    fetch,
    clock,
    sleep: clock.sleep,
    random: seededRandom(1),
  });
  return { fetch, client };
}

const file = (state: string) => ({
  data: { type: 'buildUploadFiles', id: 'F1', attributes: { assetDeliveryState: { state, errors: [], warnings: [] } } },
  links: { self: `${BASE}/v1/buildUploadFiles/F1` },
});
const refusal = (code: string, detail: string, pointer?: string) => ({
  errors: [{ status: '409', code, title: 'refused', detail, ...(pointer ? { source: { pointer } } : {}) }],
});
const CHECKSUM = '/data/attributes/sourceFileChecksums';
const sentAttributes = (body?: string) =>
  (JSON.parse(body ?? '{}') as { data: { attributes: object } }).data.attributes;

describe('commitFile', () => {
  it('commits again without a checksum when Apple refuses the sourceFileChecksums value (409 at its pointer)', async () => {
    const { fetch, client } = setup([
      {
        expect: 'PATCH /v1/buildUploadFiles/F1',
        status: 409,
        body: refusal(
          'ENTITY_ERROR.ATTRIBUTE.INVALID',
          "'MD5' is not a valid value for the attribute 'sourceFileChecksums'",
          CHECKSUM,
        ),
      },
      { expect: 'GET /v1/buildUploadFiles/F1', body: file('AWAITING_UPLOAD') },
      { expect: 'PATCH /v1/buildUploadFiles/F1', body: file('UPLOAD_COMPLETE') },
    ]);
    await expect(commitFile(client, 'F1', MD5)).resolves.toEqual({ kind: 'committed', checksumSent: false });
    const patches = fetch.calls.filter((c) => c.method === 'PATCH').map((c) => sentAttributes(c.body));
    expect(patches).toEqual([
      { uploaded: true, sourceFileChecksums: { file: { hash: MD5, algorithm: 'MD5' } } },
      { uploaded: true },
    ]);
    expect(fetch.violations).toEqual([]);
    expect(fetch.remaining()).toBe(0);
  });

  it('a checksum that does not match the bytes is a mismatch to heal, not a field to drop', async () => {
    const { fetch, client } = setup([
      {
        expect: 'PATCH /v1/buildUploadFiles/F1',
        status: 409,
        body: refusal('ENTITY_ERROR.ATTRIBUTE.INVALID', 'The MD5 checksum does not match the uploaded data', CHECKSUM),
      },
      { expect: 'GET /v1/buildUploadFiles/F1', body: file('AWAITING_UPLOAD') },
    ]);
    await expect(commitFile(client, 'F1', MD5)).resolves.toMatchObject({ kind: 'mismatch' });
    expect(fetch.violations).toEqual([]);
    expect(fetch.remaining()).toBe(0);
  });

  it('names the parts Apple lacks', async () => {
    const { fetch, client } = setup([
      {
        expect: 'PATCH /v1/buildUploadFiles/F1',
        status: 409,
        body: refusal('STATE_ERROR.UPLOAD_INCOMPLETE', 'Parts 3–6 not received'),
      },
      { expect: 'GET /v1/buildUploadFiles/F1', body: file('AWAITING_UPLOAD') },
    ]);
    await expect(commitFile(client, 'F1', MD5)).resolves.toMatchObject({ kind: 'missing', parts: [3, 4, 5, 6] });
    expect(fetch.violations).toEqual([]);
    expect(fetch.remaining()).toBe(0);
  });

  it('a commit whose answer was lost and that landed is read back as committed, not sent twice', async () => {
    const { fetch, client } = setup([
      { expect: 'PATCH /v1/buildUploadFiles/F1', networkError: true },
      { expect: 'GET /v1/buildUploadFiles/F1', body: file('UPLOAD_COMPLETE') },
    ]);
    await expect(commitFile(client, 'F1', MD5)).resolves.toEqual({ kind: 'committed', checksumSent: true });
    expect(fetch.violations).toEqual([]);
    expect(fetch.remaining()).toBe(0);
  });

  it('stops with NETWORK_ERROR (exit 9) when no commit gets an answer and none landed', async () => {
    const lost: Scripted[] = [];
    for (let i = 0; i < 4; i++) {
      lost.push({ expect: 'PATCH /v1/buildUploadFiles/F1', networkError: true });
      if (i < 3) lost.push({ expect: 'GET /v1/buildUploadFiles/F1', body: file('AWAITING_UPLOAD') });
    }
    const { fetch, client } = setup(lost);
    await expect(commitFile(client, 'F1', MD5)).rejects.toMatchObject({ code: 'NETWORK_ERROR', exitCode: 9 });
    expect(fetch.violations).toEqual([]);
    expect(fetch.remaining()).toBe(0);
  });
});

describe('partNumbers', () => {
  it('reads ranges and lists, and distrusts a list cut short', () => {
    expect(partNumbers('Parts 3–6 not received')).toEqual([3, 4, 5, 6]);
    expect(partNumbers('Parts 2, 9, 11 were not received')).toEqual([2, 9, 11]);
    expect(partNumbers('Part 7 was not received')).toEqual([7]);
    expect(partNumbers('Parts 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, … were not received')).toBeUndefined();
    expect(partNumbers('The upload is incomplete')).toBeUndefined();
  });
});

describe('assertNotFailed', () => {
  const failed = (code: string): BuildUpload =>
    ({
      type: 'buildUploads',
      id: 'U1',
      attributes: { state: { state: 'FAILED', errors: [{ code, description: `reason ${code}` }] } },
    }) as BuildUpload;
  const build = { appId: '1', platform: 'IOS' as const, version: '1.0', buildNumber: '7' };

  it("maps Apple's processing codes to ours, anything unknown to UPLOAD_REJECTED (exit 7)", () => {
    expect(() => assertNotFailed(failed('90189'), build)).toThrow(
      expect.objectContaining({ code: 'BUILD_NUMBER_USED' }),
    );
    expect(() => assertNotFailed(failed('90186'), build)).toThrow(
      expect.objectContaining({ code: 'VERSION_TRAIN_CLOSED' }),
    );
    expect(() => assertNotFailed(failed('90034'), build)).toThrow(
      expect.objectContaining({ code: 'UPLOAD_REJECTED', exitCode: 7, message: expect.stringContaining('90034') }),
    );
  });
});
