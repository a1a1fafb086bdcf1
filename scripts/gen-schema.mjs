#!/usr/bin/env node
// Generates the OpenAPI subset that ascend (client and simulator) relies on, from Apple's OpenAPI file.
// Only the operations listed below are kept, with every component schema they reach; descriptions and
// examples are stripped so the committed files stay small. Outputs:
//   src/asc/schema/openapi-subset.json   (the simulator validates requests and responses against it)
//   src/asc/schema/openapi-types.ts      (TypeScript types for the client, via openapi-typescript)
//   src/asc/schema/openapi-operations.json (every "METHOD /path" of Apple's file: the simulator tells an
//                                          operation it does not simulate (501) from an invented one (404))
// Usage: node scripts/gen-schema.mjs [path-to-apple-openapi.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const source = process.argv[2] ?? resolve(root, '../shared/reference/app-store-connect-openapi.json');

/** Every operation ascend uses. Adding a resource = adding its operations here and re-running. */
export const OPERATIONS = [
  'GET /v1/apps',
  'GET /v1/apps/{id}',
  'GET /v1/apps/{id}/builds',
  'GET /v1/apps/{id}/buildUploads',
  'GET /v1/apps/{id}/betaGroups',
  'GET /v1/apps/{id}/preReleaseVersions',
  'GET /v1/apps/{id}/appStoreVersions',
  'GET /v1/builds',
  'GET /v1/builds/{id}',
  'PATCH /v1/builds/{id}',
  'GET /v1/builds/{id}/preReleaseVersion',
  'GET /v1/builds/{id}/buildBetaDetail',
  'GET /v1/builds/{id}/betaBuildLocalizations',
  'POST /v1/builds/{id}/relationships/betaGroups',
  'DELETE /v1/builds/{id}/relationships/betaGroups',
  'GET /v1/preReleaseVersions',
  'GET /v1/preReleaseVersions/{id}',
  'POST /v1/buildUploads',
  'GET /v1/buildUploads/{id}',
  'DELETE /v1/buildUploads/{id}',
  'GET /v1/buildUploads/{id}/buildUploadFiles',
  'POST /v1/buildUploadFiles',
  'GET /v1/buildUploadFiles/{id}',
  'PATCH /v1/buildUploadFiles/{id}',
  'GET /v1/betaGroups',
  'GET /v1/betaGroups/{id}',
  'GET /v1/betaGroups/{id}/builds',
  'POST /v1/betaGroups/{id}/relationships/builds',
  'DELETE /v1/betaGroups/{id}/relationships/builds',
  'GET /v1/betaBuildLocalizations',
  'POST /v1/betaBuildLocalizations',
  'GET /v1/betaBuildLocalizations/{id}',
  'PATCH /v1/betaBuildLocalizations/{id}',
  'GET /v1/betaAppReviewSubmissions',
  'POST /v1/betaAppReviewSubmissions',
  'GET /v1/betaAppReviewSubmissions/{id}',
  'POST /v1/appStoreVersions',
  'GET /v1/appStoreVersions/{id}',
  'PATCH /v1/appStoreVersions/{id}',
  'PATCH /v1/appStoreVersions/{id}/relationships/build',
  'GET /v1/appStoreVersions/{id}/appStoreVersionPhasedRelease',
  'POST /v1/appStoreVersionPhasedReleases',
  'PATCH /v1/appStoreVersionPhasedReleases/{id}',
  'GET /v1/reviewSubmissions',
  'POST /v1/reviewSubmissions',
  'GET /v1/reviewSubmissions/{id}',
  'PATCH /v1/reviewSubmissions/{id}',
  'GET /v1/reviewSubmissions/{id}/items',
  'POST /v1/reviewSubmissionItems',
  'GET /v1/bundleIds',
  'GET /v1/users',
  // Provisioning (src/signing, simulator/provisioning).
  'POST /v1/bundleIds',
  'GET /v1/bundleIds/{id}',
  'DELETE /v1/bundleIds/{id}',
  'GET /v1/bundleIds/{id}/bundleIdCapabilities',
  'GET /v1/bundleIds/{id}/profiles',
  'POST /v1/bundleIdCapabilities',
  'DELETE /v1/bundleIdCapabilities/{id}',
  'GET /v1/certificates',
  'POST /v1/certificates',
  'GET /v1/certificates/{id}',
  'DELETE /v1/certificates/{id}',
  'GET /v1/profiles',
  'POST /v1/profiles',
  'GET /v1/profiles/{id}',
  'DELETE /v1/profiles/{id}',
  'GET /v1/profiles/{id}/bundleId',
  'GET /v1/profiles/{id}/certificates',
  'GET /v1/profiles/{id}/devices',
  'GET /v1/devices',
  'POST /v1/devices',
  'GET /v1/devices/{id}',
  'PATCH /v1/devices/{id}',
  // Beta groups and testers.
  'POST /v1/betaGroups',
  'PATCH /v1/betaGroups/{id}',
  'DELETE /v1/betaGroups/{id}',
  'GET /v1/betaGroups/{id}/betaTesters',
  'POST /v1/betaGroups/{id}/relationships/betaTesters',
  'DELETE /v1/betaGroups/{id}/relationships/betaTesters',
  'GET /v1/betaTesters',
  'POST /v1/betaTesters',
  'GET /v1/betaTesters/{id}',
  'DELETE /v1/betaTesters/{id}',
  'GET /v1/betaTesters/{id}/betaGroups',
  'POST /v1/betaTesters/{id}/relationships/betaGroups',
  'DELETE /v1/betaTesters/{id}/relationships/betaGroups',
  'GET /v1/betaGroups/{id}/relationships/betaTesters',
  'GET /v1/betaTesters/{id}/relationships/betaGroups',
  'GET /v1/betaTesters/{id}/builds',
  'GET /v1/betaTesters/{id}/relationships/builds',
  'POST /v1/betaTesters/{id}/relationships/builds',
  'DELETE /v1/betaTesters/{id}/relationships/builds',
  'GET /v1/betaTesters/{id}/apps',
  'GET /v1/betaTesters/{id}/relationships/apps',
  'DELETE /v1/betaTesters/{id}/relationships/apps',
  // Webhooks (simulator/webhooks, src/asc/resources/webhooks.ts).
  'GET /v1/apps/{id}/webhooks',
  'POST /v1/webhooks',
  'GET /v1/webhooks/{id}',
  'PATCH /v1/webhooks/{id}',
  'DELETE /v1/webhooks/{id}',
  'GET /v1/webhooks/{id}/deliveries',
  'POST /v1/webhookDeliveries',
  'POST /v1/webhookPings',
];

const DROP_KEYS = new Set(['description', 'example', 'examples', 'summary', 'externalDocs', 'tags', 'title']);

// Keys under `properties` are attribute names (e.g. `title`, `description`), not documentation: keep them.
function strip(node, inProperties = false) {
  if (Array.isArray(node)) return node.map((n) => strip(n));
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (!inProperties && DROP_KEYS.has(k)) continue;
      out[k] = strip(v, !inProperties && k === 'properties');
    }
    return out;
  }
  return node;
}

function collectRefs(node, into) {
  if (Array.isArray(node)) for (const n of node) collectRefs(n, into);
  else if (node && typeof node === 'object') {
    if (typeof node.$ref === 'string') into.add(node.$ref.replace('#/components/schemas/', ''));
    for (const v of Object.values(node)) collectRefs(v, into);
  }
}

export function buildSubset(spec, operations = OPERATIONS) {
  const paths = {};
  for (const op of operations) {
    const [method, path] = op.split(' ');
    const item = spec.paths[path];
    const operation = item?.[method.toLowerCase()];
    if (!operation) throw new Error(`operation not in Apple's OpenAPI file: ${op}`);
    paths[path] ??= {};
    if (item.parameters) paths[path].parameters = strip(item.parameters);
    paths[path][method.toLowerCase()] = strip(operation);
  }
  const needed = new Set();
  collectRefs(paths, needed);
  const schemas = {};
  const queue = [...needed];
  while (queue.length) {
    const name = queue.pop();
    if (schemas[name]) continue;
    const schema = spec.components.schemas[name];
    if (!schema) throw new Error(`missing schema ${name}`);
    schemas[name] = strip(schema);
    const more = new Set();
    collectRefs(schema, more);
    for (const m of more) if (!schemas[m]) queue.push(m);
  }
  const sorted = Object.fromEntries(
    Object.keys(schemas)
      .sort()
      .map((k) => [k, schemas[k]]),
  );
  return {
    openapi: spec.openapi,
    info: { title: spec.info.title, version: spec.info.version },
    servers: spec.servers,
    paths,
    components: { schemas: sorted, securitySchemes: spec.components.securitySchemes },
  };
}

/** Every operation of Apple's file as "METHOD /path/{id}", sorted. */
export function allOperations(spec) {
  const ops = [];
  for (const [path, item] of Object.entries(spec.paths))
    for (const m of Object.keys(item)) if (m !== 'parameters') ops.push(`${m.toUpperCase()} ${path}`);
  return ops.sort();
}

async function main() {
  const spec = JSON.parse(readFileSync(source, 'utf8'));
  const subset = buildSubset(spec);
  const jsonOut = resolve(root, 'src/asc/schema/openapi-subset.json');
  writeFileSync(jsonOut, `${JSON.stringify(subset)}\n`);
  writeFileSync(resolve(root, 'src/asc/schema/openapi-operations.json'), `${JSON.stringify(allOperations(spec))}\n`);
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  const ast = await openapiTS(subset, { alphabetize: true });
  const header = `// Generated by scripts/gen-schema.mjs from Apple's App Store Connect OpenAPI ${spec.info.version}. Do not edit.\n`;
  writeFileSync(resolve(root, 'src/asc/schema/openapi-types.ts'), header + astToString(ast));
  console.log(
    `${Object.keys(subset.paths).length} paths, ${Object.keys(subset.components.schemas).length} schemas -> src/asc/schema/`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
