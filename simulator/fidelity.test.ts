import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/core/clock.js';
import { appleToken } from '../test/helpers/jwt.js';
import { createSimulator } from './index.js';
import { loadSpec } from './spec.js';
import { validateSchema } from './validate.js';

/**
 * The simulator's own answers must be valid by Apple's OpenAPI response schemas: this walks every GET
 * route it serves (with `include` on, so linkage and `included` are exercised) and checks each body.
 */
describe('simulator fidelity: responses validate against the OpenAPI file', () => {
  const spec = loadSpec();
  const clock = new FakeClock(Date.UTC(2026, 5, 1));
  const sim = createSimulator({ clock });
  const admin = sim.createKey({ role: 'ADMIN' });
  const headers = () => ({ authorization: `Bearer ${appleToken(admin, clock.now() / 1000)}` });

  it('every GET route, single and collection, with includes', async () => {
    // One build upload so its routes have something to show.
    const created = await sim.app.inject({
      method: 'POST',
      url: '/v1/buildUploads',
      headers: { ...headers(), 'content-type': 'application/json' },
      payload: {
        data: {
          type: 'buildUploads',
          attributes: { cfBundleShortVersionString: '1.0.0', cfBundleVersion: '9', platform: 'IOS' },
          relationships: { app: { data: { type: 'apps', id: '1000000001' } } },
        },
      },
    });
    expect(created.statusCode).toBe(201);
    const createOp = spec.operations.find((o) => o.key === 'POST /v1/buildUploads')!;
    expect(validateSchema(spec, createOp.responses['201']!, created.json())).toEqual([]);

    let checked = 0;
    for (const op of spec.operations.filter((o) => o.method === 'GET')) {
      const type = op.template.split('/')[2]!;
      const sample = sim.store.list(type)[0];
      if (op.template.includes('{id}') && !sample) continue;
      const url = new URL(`http://x${op.template.replace('{id}', sample?.id ?? '')}`);
      const include = op.params.find((p) => p.name === 'include');
      const includes = include ? (spec.resolve(include.schema).items?.enum as string[] | undefined) : undefined;
      if (includes?.length) url.searchParams.set('include', includes.join(','));
      for (const p of op.params.filter((q) => q.required && q.in === 'query'))
        url.searchParams.set(p.name, '1000000001');
      const res = await sim.app.inject({ method: 'GET', url: url.pathname + url.search, headers: headers() });
      expect(res.statusCode, `${op.key} ${res.body.slice(0, 300)}`).toBe(200);
      const issues = validateSchema(spec, op.responses['200']!, res.json());
      expect(issues.slice(0, 4), `${op.key} ${JSON.stringify(issues.slice(0, 4))}`).toEqual([]);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('error bodies carry string status, code, title and detail and validate as ErrorResponse', async () => {
    const errorSchema = { $ref: '#/components/schemas/ErrorResponse' };
    const responses = [
      await sim.app.inject({ method: 'GET', url: '/v1/apps' }),
      await sim.app.inject({ method: 'GET', url: '/v1/apps?limit=500', headers: headers() }),
      await sim.app.inject({ method: 'GET', url: '/v1/apps/404404', headers: headers() }),
      await sim.app.inject({ method: 'GET', url: '/v1/nope', headers: headers() }),
      await sim.app.inject({
        method: 'POST',
        url: '/v1/buildUploads',
        headers: { ...headers(), 'content-type': 'application/json' },
        payload: { data: {} },
      }),
    ];
    for (const r of responses) {
      const body = r.json();
      expect(validateSchema(spec, errorSchema, body), r.body).toEqual([]);
      for (const e of body.errors) {
        expect(e.status).toBe(String(r.statusCode));
        for (const f of ['code', 'title', 'detail', 'id']) expect(typeof e[f], f).toBe('string');
      }
    }
  });
});
