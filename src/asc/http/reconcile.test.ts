import { describe, expect, it } from 'vitest';
import { AscApiError, AscNetworkError } from './errors.js';
import { idempotentWrite, writeOnce } from './reconcile.js';

const e500 = () => new AscApiError('POST', '/v1/x', 500, [{ status: '500', code: 'UNEXPECTED_ERROR', title: 'x' }]);
const e409 = () => new AscApiError('POST', '/v1/x', 409, [{ status: '409', code: 'ENTITY_ERROR', title: 'x' }]);
const lost = () => new AscNetworkError('POST', '/v1/x', new Error('ECONNRESET'), true);

/** A client whose pauses are recorded, in order with the reads and writes around them. */
function recorder() {
  const log: string[] = [];
  return { log, client: { pause: async (attempt: number) => void log.push(`pause ${attempt}`) } };
}

describe('writes whose answer was lost', () => {
  it('a create that failed on a 5xx waits, then reads, and is sent again only if it did not land', async () => {
    const { log, client } = recorder();
    const outcomes = [e500(), lost()];
    const r = await writeOnce(
      client,
      async () => {
        log.push('write');
        const e = outcomes.shift();
        if (e) throw e;
        return 'made';
      },
      async () => void log.push('read'),
    );
    expect(r).toBe('made');
    expect(log).toEqual(['write', 'pause 0', 'read', 'write', 'pause 1', 'read', 'write']);
  });

  it('a create found by the read after a lost answer is not sent again', async () => {
    const { log, client } = recorder();
    const r = await writeOnce(
      client,
      async () => {
        log.push('write');
        throw lost();
      },
      async () => 'it landed',
    );
    expect(r).toBe('it landed');
    expect(log).toEqual(['write', 'pause 0']);
  });

  it('a client error is final at once: no pause, no read, no second write', async () => {
    const { log, client } = recorder();
    await expect(
      writeOnce(
        client,
        async () => {
          log.push('write');
          throw e409();
        },
        async () => void log.push('read'),
      ),
    ).rejects.toMatchObject({ status: 409 });
    expect(log).toEqual(['write']);
  });

  it('an idempotent write is re-sent after a pause, and gives up after its attempts', async () => {
    const { log, client } = recorder();
    await expect(
      idempotentWrite(
        client,
        async () => {
          log.push('write');
          throw e500();
        },
        3,
      ),
    ).rejects.toMatchObject({ code: 'ASC_SERVER_ERROR' });
    expect(log).toEqual(['write', 'pause 0', 'write', 'pause 1', 'write']);
  });
});
