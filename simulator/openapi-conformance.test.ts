import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { subsetPath } from '../src/asc/schema/index.js';
import { FakeClock } from '../src/core/clock.js';
import { appleToken } from '../test/helpers/jwt.js';
import { createSimulator } from './index.js';

/**
 * The simulator's answers checked by an independent validator: ajv, compiled straight from Apple's OpenAPI
 * file (the whole file in ../shared/reference; the committed subset when it is absent, noted below), not by
 * the simulator's own validator. Responses may carry only what the schema declares (`additionalProperties:
 * false` wherever Apple lists properties), so an invented member such as a relationship `links` where Apple
 * declares only `data` is caught.
 */
const FULL = join(import.meta.dirname, '..', '..', 'shared', 'reference', 'app-store-connect-openapi.json');
const source = existsSync(FULL) ? FULL : subsetPath();
type Json = Record<string, unknown>;
const doc = JSON.parse(readFileSync(source, 'utf8')) as {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema: Json }> }> }>>;
  components: { schemas: Record<string, Json> };
};

/** OpenAPI 3.0 → JSON Schema: `nullable` becomes a `null` alternative, refs point at `definitions`, objects are closed. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === '$ref') out.$ref = String(v).replace('#/components/schemas/', '#/definitions/');
    else if (k === 'properties')
      out.properties = Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, toJsonSchema(s)]));
    else if (k === 'format' && typeof v !== 'string')
      continue; // Apple's file has `format: null` in places
    else if (k !== 'nullable' && k !== 'deprecated' && k !== 'example' && k !== 'discriminator')
      out[k] = toJsonSchema(v);
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  if ((node as Json).nullable === true) return { anyOf: [out, { type: 'null' }] };
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
ajv.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s));
ajv.addFormat('date', /^\d{4}-\d\d-\d\d$/);
for (const f of ['email', 'uri', 'uri-reference', 'int64', 'int32', 'number', 'binary', 'duration', 'uuid'])
  ajv.addFormat(f, true);
ajv.addSchema({ $id: 'apple', definitions: toJsonSchema(doc.components.schemas) as Json });
const compiled = new Map<string, ValidateFunction>();

function responseValidator(method: string, template: string, status: string): ValidateFunction {
  const key = `${method} ${template} ${status}`;
  let v = compiled.get(key);
  if (!v) {
    const schema =
      doc.paths[template]?.[method.toLowerCase()]?.responses?.[status]?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`Apple's file has no ${status} body for ${method} ${template}`);
    const ref = String(schema.$ref).replace('#/components/schemas/', '');
    v = ajv.getSchema(`apple#/definitions/${ref}`)!;
    compiled.set(key, v);
  }
  return v;
}

function problems(v: ValidateFunction, body: unknown): string[] {
  if (v(body)) return [];
  return (v.errors ?? []).slice(0, 5).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

describe(`simulator answers validate with ajv against ${source === FULL ? "Apple's whole OpenAPI file" : 'the committed subset (the shared OpenAPI file is absent)'}`, () => {
  const clock = new FakeClock(Date.UTC(2026, 5, 1));
  // Webhook deliveries are answered in process: the reads below need a delivery with its event.
  const sim = createSimulator({ clock, webhookSender: async () => ({ status: 200, body: 'ok' }) });
  const admin = sim.createKey({ role: 'ADMIN' });
  const headers = () => ({ authorization: `Bearer ${appleToken(admin, clock.now() / 1000)}` });
  afterAll(() => sim.close());
  const subset = JSON.parse(readFileSync(subsetPath(), 'utf8')) as typeof doc;

  it('write answers (create, reserve, beta groups and testers) validate; they seed the reads below', async () => {
    const send = async (method: 'POST' | 'PATCH', url: string, payload: unknown) =>
      sim.app.inject({
        method,
        url,
        headers: { ...headers(), 'content-type': 'application/json' },
        payload: payload as object,
      });
    const created = await send('POST', '/v1/buildUploads', {
      data: {
        type: 'buildUploads',
        attributes: { cfBundleShortVersionString: '1.0.0', cfBundleVersion: '9', platform: 'IOS' },
        relationships: { app: { data: { type: 'apps', id: '1000000001' } } },
      },
    });
    expect(problems(responseValidator('POST', '/v1/buildUploads', '201'), created.json())).toEqual([]);
    const upload = { id: created.json().data.id as string };
    const file = await send('POST', '/v1/buildUploadFiles', {
      data: {
        type: 'buildUploadFiles',
        attributes: { assetType: 'ASSET', fileName: 'a.ipa', fileSize: 10, uti: 'com.apple.ipa' },
        relationships: { buildUpload: { data: { type: 'buildUploads', id: upload.id } } },
      },
    });
    expect(problems(responseValidator('POST', '/v1/buildUploadFiles', '201'), file.json())).toEqual([]);
    const id = file.json().data.id;
    const read = await sim.app.inject({ method: 'GET', url: `/v1/buildUploadFiles/${id}`, headers: headers() });
    expect(problems(responseValidator('GET', '/v1/buildUploadFiles/{id}', '200'), read.json())).toEqual([]);
    const group = await send('POST', '/v1/betaGroups', {
      data: {
        type: 'betaGroups',
        attributes: { name: 'Conformance', publicLinkEnabled: true },
        relationships: { app: { data: { type: 'apps', id: '1000000001' } } },
      },
    });
    expect(problems(responseValidator('POST', '/v1/betaGroups', '201'), group.json())).toEqual([]);
    const gid = group.json().data.id;
    const patched = await send('PATCH', `/v1/betaGroups/${gid}`, {
      data: { type: 'betaGroups', id: gid, attributes: { feedbackEnabled: false } },
    });
    expect(problems(responseValidator('PATCH', '/v1/betaGroups/{id}', '200'), patched.json())).toEqual([]);
    const tester = await send('POST', '/v1/betaTesters', {
      data: {
        type: 'betaTesters',
        attributes: { email: 'x@example.com' },
        relationships: { betaGroups: { data: [{ type: 'betaGroups', id: gid }] } },
      },
    });
    expect(problems(responseValidator('POST', '/v1/betaTesters', '201'), tester.json())).toEqual([]);
    const hook = await send('POST', '/v1/webhooks', {
      data: {
        type: 'webhooks',
        attributes: {
          name: 'Conformance',
          secret: 'conformance secret',
          url: 'https://hooks.example.com/',
          enabled: true,
          eventTypes: ['BUILD_UPLOAD_STATE_UPDATED'],
        },
        relationships: { app: { data: { type: 'apps', id: '1000000001' } } },
      },
    });
    expect(problems(responseValidator('POST', '/v1/webhooks', '201'), hook.json())).toEqual([]);
    const hid = hook.json().data.id;
    const hookPatched = await send('PATCH', `/v1/webhooks/${hid}`, {
      data: { type: 'webhooks', id: hid, attributes: { name: 'Conformance 2' } },
    });
    expect(problems(responseValidator('PATCH', '/v1/webhooks/{id}', '200'), hookPatched.json())).toEqual([]);
    const ping = await send('POST', '/v1/webhookPings', {
      data: { type: 'webhookPings', relationships: { webhook: { data: { type: 'webhooks', id: hid } } } },
    });
    expect(problems(responseValidator('POST', '/v1/webhookPings', '201'), ping.json())).toEqual([]);
    await sim.webhooks.idle();
    const delivery = sim.store.list('webhookDeliveries')[0]!;
    const again = await send('POST', '/v1/webhookDeliveries', {
      data: {
        type: 'webhookDeliveries',
        relationships: { template: { data: { type: 'webhookDeliveries', id: delivery.id } } },
      },
    });
    expect(problems(responseValidator('POST', '/v1/webhookDeliveries', '201'), again.json())).toEqual([]);
    await sim.webhooks.idle();
  });

  it('every simulated GET route, single and collection, with every include', async () => {
    let checked = 0;
    for (const [template, item] of Object.entries(subset.paths)) {
      if (!item.get) continue;
      const type = template.split('/')[2]!;
      const sample = sim.store.list(type)[0];
      if (template.includes('{id}') && !sample) continue;
      const url = new URL(`http://x${template.replace('{id}', sample?.id ?? '')}`);
      const params = [
        ...((item as { parameters?: Json[] }).parameters ?? []),
        ...(((item.get as Json).parameters as Json[]) ?? []),
      ];
      const include = params.find((p) => p.name === 'include') as
        | { schema?: { items?: { enum?: string[] } } }
        | undefined;
      if (include?.schema?.items?.enum?.length) url.searchParams.set('include', include.schema.items.enum.join(','));
      for (const p of params.filter((q) => q.required && q.in === 'query'))
        url.searchParams.set(String(p.name), '1000000001');
      const res = await sim.app.inject({ method: 'GET', url: url.pathname + url.search, headers: headers() });
      expect(res.statusCode, `${template} ${res.body.slice(0, 200)}`).toBe(200);
      expect(problems(responseValidator('GET', template, '200'), res.json()), template).toEqual([]);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(35);
  });

  it('error bodies validate as ErrorResponse', async () => {
    const v = ajv.getSchema('apple#/definitions/ErrorResponse')!;
    for (const url of ['/v1/apps?limit=500', '/v1/apps/404404', '/v1/nope', '/v1/appClips/1']) {
      const r = await sim.app.inject({ method: 'GET', url, headers: headers() });
      expect(r.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(problems(v, r.json()), url).toEqual([]);
    }
  });
});
