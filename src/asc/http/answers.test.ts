import { describe, expect, it } from 'vitest';
import { BASE, doc, page, scriptedClient } from '../../../test/helpers/asc-client.js';
import { EXIT } from '../../core/errors.js';
import { collect, MAX_PAGES } from './paginate.js';

/** Answers that are 2xx but not App Store Connect's: a proxy page, a wrong --api-url, a runaway cursor. */
describe('answers that are not App Store Connect JSON', () => {
  it('a 2xx HTML page is ASC_RESPONSE_INVALID (exit 9, a network-side failure), not a crash', async () => {
    const { client } = scriptedClient([
      {
        expect: 'GET /v1/apps',
        rawBody: '<html><body>Sign in to the hotel Wi-Fi</body></html>',
        headers: { 'content-type': 'text/html' },
      },
    ]);
    const err = await client.request({ method: 'GET', path: '/v1/apps' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ASC_RESPONSE_INVALID', exitCode: EXIT.network });
    expect((err as Error).message).toMatch(
      /GET \/v1\/apps answered 200 with 52 bytes that are not JSON \(text\/html\)/,
    );
  });

  it('a list answer without a data array is ASC_RESPONSE_INVALID', async () => {
    const { client } = scriptedClient([{ expect: 'GET /v1/apps', body: { x: 1 } }]);
    await expect(collect(client, '/v1/apps')).rejects.toMatchObject({ code: 'ASC_RESPONSE_INVALID' });
  });

  it('an empty page that still links on ends the walk', async () => {
    const { client } = scriptedClient([
      { expect: 'GET /v1/apps', body: page([doc('apps', 'a1').data], { next: `${BASE}/v1/apps?cursor=2` }) },
      { expect: 'GET /v1/apps', body: page([], { next: `${BASE}/v1/apps?cursor=3` }) },
    ]);
    const r = await collect(client, '/v1/apps');
    expect(r.data.map((d) => (d as { id: string }).id)).toEqual(['a1']);
  });

  it('distinct cursors forever stop at MAX_PAGES with PAGINATION_LOOP', async () => {
    const script = Array.from({ length: MAX_PAGES }, (_, i) => ({
      expect: 'GET /v1/apps',
      body: page([doc('apps', `a${i}`).data], { next: `${BASE}/v1/apps?cursor=${i + 1}` }),
    }));
    const { client } = scriptedClient(script);
    await expect(collect(client, '/v1/apps')).rejects.toMatchObject({ code: 'PAGINATION_LOOP' });
  });
});
