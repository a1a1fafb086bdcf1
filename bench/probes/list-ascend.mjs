// Probe: lists every build of an app with ascend's client; prints time, requests, peak RSS, count.
// With a fourth argument `every-field`, the same pages are read without `fields`, as the peer probe reads them.
import { readFileSync } from 'node:fs';
import { createAscClient } from '../../dist/src/asc/http/client.js';
import { collect } from '../../dist/src/asc/http/paginate.js';
import { listBuilds } from '../../dist/src/asc/resources/builds.js';
import { apiKeyOf } from '../../dist/src/credentials/key.js';
import { createTokenProvider } from '../../dist/src/credentials/token.js';

const [url, keyFile, appId, mode] = process.argv.slice(2);
const k = JSON.parse(readFileSync(keyFile, 'utf8'));
const tokens = createTokenProvider(apiKeyOf({ keyId: k.key_id, issuerId: k.issuer_id, privateKeyPem: k.key }, 'bench'));
const client = createAscClient({ baseUrl: url, tokens });
// Both clients run on Node's built-in fetch, whose implementation loads on first use; the peer's SDK loads it
// while being imported. Loading it here, before the clock starts, times the same work for both: the listing.
new Headers();
const cpu0 = process.cpuUsage();
const start = process.hrtime.bigint();
const builds =
  mode === 'every-field'
    ? (
        await collect(client, '/v1/builds', {
          'filter[app]': [appId],
          sort: '-uploadedDate',
          include: 'preReleaseVersion',
        })
      ).data
    : (await listBuilds(client, { appId })).builds;
const ms = Number(process.hrtime.bigint() - start) / 1e6;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(
  JSON.stringify({
    ms,
    cpuMs,
    requests: client.sent,
    count: builds.length,
    tokens: tokens.minted,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
