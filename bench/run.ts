// `npm run bench`: every benchmark, several runs each; rewrites bench/RESULTS.md. Never part of `npm test`.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchApiClient } from './api-client.js';
import { benchBuildSteps } from './build-steps.js';
import { benchDashboard } from './dashboard.js';
import { benchDeploy } from './deploy.js';
import { benchIpaInspect } from './ipa-inspect.js';
import { machine } from './lib.js';
import { ensurePeers } from './peers.js';
import { benchScale } from './scale.js';
import { benchServer } from './server.js';
import { benchServerDeploy } from './server-deploy.js';
import { benchStartup } from './startup.js';
import { benchUpload } from './upload.js';
import { benchWebhooks } from './webhooks.js';

const only = process.argv.slice(2);
const tmp = join(import.meta.dirname, '.tmp');
const sections: string[] = [];
const started = Date.now();
const want = (name: string) => only.length === 0 || only.includes(name);

const havePeers = want('startup') || want('api') ? ensurePeers() : false;
if (want('startup')) sections.push(await benchStartup(havePeers));
if (want('api')) sections.push(await benchApiClient(tmp, havePeers));
if (want('ipa')) sections.push(await benchIpaInspect(tmp));
if (want('upload')) sections.push(await benchUpload(tmp, [1, 4], [16]));
if (want('concurrency'))
  sections.push(
    await benchUpload(
      tmp,
      [1],
      [4, 8, 12, 16],
      'Upload concurrency (the default, 16, is the smallest that fills this link)',
    ),
  );
// The server deploy compares with the CLI's, so it runs with the deploy section.
if (want('deploy')) sections.push(await benchDeploy(), await benchServerDeploy());
if (want('server')) sections.push(await benchServer(tmp));
if (want('webhooks')) sections.push(await benchWebhooks());
if (want('build')) sections.push(await benchBuildSteps());
if (want('dashboard')) sections.push(await benchDashboard());
if (want('scale')) sections.push(await benchScale());

// A partial run (`npm run bench -- upload`) keeps the other sections of the committed results.
const resultsPath = join(import.meta.dirname, 'RESULTS.md');
if (only.length && existsSync(resultsPath)) {
  const kept = readFileSync(resultsPath, 'utf8')
    .split(/\n(?=## )/)
    .slice(1)
    .filter((old) => !sections.some((s) => s.split('\n')[0] === old.split('\n')[0]));
  sections.unshift(...kept.map((k) => k.trimEnd()));
}
const doc = [
  '# Benchmark results',
  '',
  `Run on ${new Date().toISOString().slice(0, 10)} with \`npm run bench\` on: ${machine()}.`,
  `${only.length ? `Re-run this time: ${only.join(', ')}, in` : 'Total benchmark time:'} ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  '',
  ...sections.flatMap((s) => [s, '']),
].join('\n');
writeFileSync(resultsPath, doc);
console.log(doc);
if (!process.env.BENCH_KEEP) rmSync(tmp, { recursive: true, force: true });
