import { describe, expect, it } from 'vitest';
import { parseNotice } from './payload.js';

const body = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('webhook payload', () => {
  it("reads the event id, type and instance of Apple's example shape", () => {
    const n = parseNotice(
      body({
        data: {
          type: 'buildUploadStateUpdated',
          id: '2f3c1c9e-1d7e-4b8e-9d3e-1a2b3c4d5e6f',
          version: 1,
          attributes: { newState: 'COMPLETE' },
          relationships: { instance: { data: { type: 'buildUploads', id: 'up-1' } } },
        },
      }),
    );
    expect(n).toEqual({
      eventId: '2f3c1c9e-1d7e-4b8e-9d3e-1a2b3c4d5e6f',
      eventType: 'buildUploadStateUpdated',
      resource: { type: 'buildUploads', id: 'up-1' },
    });
  });

  it('keeps an event without an instance (a ping) with no resource', () => {
    expect(parseNotice(body({ data: { type: 'webhookPingCreated', id: 'e1' } }))).toEqual({
      eventId: 'e1',
      eventType: 'webhookPingCreated',
      resource: null,
    });
  });

  it('refuses what is not JSON of that shape', () => {
    expect(parseNotice(Buffer.from('not json'))).toBeUndefined();
    expect(parseNotice(body([]))).toBeUndefined();
    expect(parseNotice(body({ data: { type: 'x' } }))).toBeUndefined();
    expect(parseNotice(body({ data: { type: 'x', id: 7 } }))).toBeUndefined();
    expect(parseNotice(body({ data: { type: 'x y', id: 'e1' } }))).toBeUndefined();
    expect(parseNotice(body({ data: { type: 'x', id: 'a'.repeat(129) } }))).toBeUndefined();
  });

  it('drops an instance whose id is not an id', () => {
    const n = parseNotice(
      body({ data: { type: 'x', id: 'e1', relationships: { instance: { data: { type: 'builds', id: '../x y' } } } } }),
    );
    expect(n?.resource).toBeNull();
  });
});
