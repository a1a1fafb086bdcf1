// Probe: the same listing with appstore-connect-sdk (an OpenAPI-generated client), paging by hand.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(import.meta.dirname, '..', '.peers', 'package.json'));
const sdk = await import(require.resolve('appstore-connect-sdk'));
const [url, keyFile, appId] = process.argv.slice(2);
const k = JSON.parse(readFileSync(keyFile, 'utf8'));
let requests = 0;
const client = sdk.createClient({ issuerId: k.issuer_id, privateKeyId: k.key_id, privateKey: k.key, baseUrl: url });
// Both clients run on Node's built-in fetch, whose implementation loads on first use; the peer's SDK loads it
// while being imported. Loading it here, before the clock starts, times the same work for both: the listing.
new Headers();
const cpu0 = process.cpuUsage();
const start = process.hrtime.bigint();
const builds = [];
const included = [];
let cursor;
for (;;) {
  requests++;
  const res = await sdk.buildsGetCollection({
    client,
    query: {
      'filter[app]': [appId],
      limit: 200,
      sort: ['-uploadedDate'],
      include: ['preReleaseVersion'],
      ...(cursor ? { cursor } : {}),
    },
  });
  if (res.error) throw new Error(JSON.stringify(res.error));
  // Kept, as a caller listing builds keeps them (ascend's listBuilds returns them all).
  builds.push(...res.data.data);
  included.push(...(res.data.included ?? []));
  const next = res.data.links?.next;
  if (!next) break;
  cursor = new URL(next).searchParams.get('cursor');
}
const ms = Number(process.hrtime.bigint() - start) / 1e6;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(
  JSON.stringify({ ms, cpuMs, requests, count: builds.length, maxRssMB: process.resourceUsage().maxRSS / 1024 }),
);
