import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Scripted, scriptedFetch } from '../../test/helpers/fake-fetch.js';
import { tempDir } from '../../test/helpers/temp.js';
import { createAscClient } from '../asc/http/client.js';
import { FakeClock, seededRandom } from '../core/clock.js';
import { MemoryStateStore } from '../core/state.js';
import type { PartTransport } from '../upload/engine.js';
import { type UploadEvent, uploadBuild } from './upload-build.js';

const BASE = 'https://asc.test';
const list = (data: unknown[]) => ({ data, links: { self: `${BASE}/self` } });
const one = (data: unknown) => ({ data, links: { self: `${BASE}/self` } });

describe('uploadBuild after a lost create answer', () => {
  it("continues its own first upload when Apple's list lagged and the create was sent again, instead of waiting for it", async () => {
    const clock = new FakeClock();
    const iso = (ms: number) => new Date(clock.now() + ms).toISOString();
    const upload = (id: string, createdMs: number, fileId?: string) => ({
      type: 'buildUploads',
      id,
      attributes: { cfBundleVersion: '7', createdDate: iso(createdMs), state: { state: 'AWAITING_UPLOAD' } },
      ...(fileId ? { relationships: { assetFile: { data: { type: 'buildUploadFiles', id: fileId } } } } : {}),
    });
    const file = tempDir('ascend-lost-create-');
    const ipa = join(file, 'app.ipa');
    writeFileSync(ipa, 'sixteen bytes!!!');
    const reserved = {
      type: 'buildUploadFiles',
      id: 'F1',
      attributes: {
        fileSize: 16,
        assetDeliveryState: { state: 'AWAITING_UPLOAD' },
        uploadOperations: [{ method: 'PUT', url: 'https://parts.test/1', offset: 0, length: 16, partNumber: 1 }],
      },
    };
    const script: Scripted[] = [
      // Nothing of this build yet.
      { expect: 'GET /v1/apps/app1/buildUploads', body: list([]) },
      // The create lands (as U1) but its answer is lost, and the list read to reconcile does not show U1 yet.
      { expect: 'POST /v1/buildUploads', networkError: true },
      { expect: 'GET /v1/apps/app1/buildUploads', body: list([]) },
      { expect: 'POST /v1/buildUploads', status: 201, body: one(upload('U2', 2000)) },
      // Now both show: U1 is older, so U2 yields to it — and U1 is this run's own, so it is continued.
      { expect: 'GET /v1/apps/app1/buildUploads', body: list([upload('U1', 1000), upload('U2', 2000)]) },
      { expect: 'DELETE /v1/buildUploads/U2', status: 204 },
      { expect: 'GET /v1/apps/app1/buildUploads', body: list([upload('U1', 1000)]) },
      { expect: 'GET /v1/buildUploads/U1', body: one(upload('U1', 1000)) },
      { expect: 'GET /v1/buildUploads/U1', body: one(upload('U1', 1000)) },
      { expect: 'POST /v1/buildUploadFiles', status: 201, body: one(reserved) },
      { expect: 'PATCH /v1/buildUploadFiles/F1', body: one(reserved) },
    ];
    const fetch = scriptedFetch(script);
    const client = createAscClient({
      baseUrl: BASE,
      tokens: { token: async () => 'token', invalidate: () => {} },
      fetch,
      clock,
      sleep: clock.sleep,
      random: seededRandom(1),
    });
    const sent: string[] = [];
    const transport: PartTransport = async (part, body) => {
      for await (const _ of body);
      sent.push(part.url);
      return { status: 200 };
    };
    const events: UploadEvent[] = [];
    const r = await uploadBuild(
      {
        file: ipa,
        appId: 'app1',
        platform: 'IOS',
        version: '1.2.0',
        buildNumber: '7',
        concurrency: 1,
        wait: false,
        deadline: clock.now() + 30 * 60_000,
      },
      {
        client,
        state: new MemoryStateStore(),
        clock,
        sleep: clock.sleep,
        random: seededRandom(2),
        transport,
        onEvent: (e) => events.push(e),
      },
    );
    expect(r).toMatchObject({ uploadId: 'U1', fileId: 'F1', state: 'PROCESSING' });
    expect(sent).toEqual(['https://parts.test/1']);
    expect(events).toContainEqual({
      type: 'step',
      step: 'other',
      detail: "upload U1 was made by this run's first create, whose answer was lost; continuing it",
    });
    // Nothing was waited for: the only sleeps are the client's own backoff before re-reading, if any.
    expect(clock.sleeps.filter((ms) => ms >= 1000)).toEqual([]);
    expect(fetch.violations).toEqual([]);
    expect(fetch.remaining()).toBe(0);
  });
});
