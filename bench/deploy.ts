import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../simulator/index.js';
import { FakeClock } from '../src/core/clock.js';
import { apiKeyOf } from '../src/credentials/key.js';
import { createTokenProvider } from '../src/credentials/token.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../src/sample/builder.js';
import { fmt, stats, timed } from './lib.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'ascend');
/** Requests that only watch time pass (processing, review); the rest is the work a deploy needs. */
const POLLS = new Set(['GET /v1/buildUploads/{id}', 'GET /v1/builds/{id}']);

/**
 * A full `ascend deploy` (TestFlight internal + external group with beta review, App Store version with
 * phased release, review submission) against the simulator with 2 s of upload processing and 2 s of build
 * processing: requests per deploy without polls, and wall time beyond those 4 s.
 */
export async function benchDeploy(runs = 5): Promise<string> {
  const processing = 2;
  const sim = await startSimulator({
    processingSeconds: processing,
    reviewSeconds: 3600,
    partSizeBytes: 5 * 1024 * 1024,
  });
  const dir = mkdtempSync(join(tmpdir(), 'ascend-bench-deploy-'));
  try {
    const key = sim.createKey();
    writeFileSync(
      join(dir, 'k.json'),
      JSON.stringify({ key_id: key.keyId, issuer_id: key.issuerId, key: key.privateKeyPem }),
      { mode: 0o600 },
    );
    const walls: number[] = [];
    const work: number[] = [];
    const polls: number[] = [];
    const jwts: number[] = [];
    for (let i = 0; i < runs; i++) {
      // One app per run keeps App Store versions apart; builds are ~10 MB.
      const bundleId = i % 2 ? 'com.example.sandbox.two' : 'com.example.sandbox.one';
      const file = join(dir, `d${i}.ipa`);
      await buildIpa(file, { bundleId, version: `8.${i}.0`, build: '1', payloadBytes: 10 * 1024 * 1024 });
      sim.stats.clear();
      sim.tokensSeen.clear();
      const args = [
        'deploy',
        file,
        '--api-url',
        sim.url,
        '--json',
        '--group',
        i % 2 ? 'QA' : 'External Testers',
        '--whats-new',
        'bench',
        '--app-store',
        '--submit-review',
        '--phased',
      ];
      // A fresh state folder per run: nothing is resumed, every step does its work.
      const r = await timed(process.execPath, [BIN, ...args], {
        env: {
          ...process.env,
          APP_STORE_CONNECT_API_KEY_PATH: join(dir, 'k.json'),
          ASCEND_HOME: join(dir, `home${i}`),
          // The sample IPA's profile is signed by the sample root, not Apple.
          ASCEND_EXTRA_TRUSTED_ROOTS: SAMPLE_ROOT_SHA256,
        },
      });
      if (r.code !== 0) throw new Error(`deploy exited ${r.code}`);
      walls.push(r.ms);
      jwts.push(sim.tokensSeen.size);
      const entries = [...sim.stats.entries()].filter(([k]) => k !== 'PUT /__upload');
      polls.push(entries.filter(([k]) => POLLS.has(k)).reduce((n, [, v]) => n + v, 0));
      work.push(entries.filter(([k]) => !POLLS.has(k)).reduce((n, [, v]) => n + v, 0));
      // The next version of an app can only be created once the previous one left review: cancel it.
      for (const s of sim.store.list('reviewSubmissions')) s.attributes.state = 'COMPLETE';
      for (const v of sim.store.list('appStoreVersions')) {
        v.attributes.appStoreState = 'READY_FOR_SALE';
        v.attributes.appVersionState = 'READY_FOR_DISTRIBUTION';
      }
      for (const b of sim.store.list('betaAppReviewSubmissions')) b.attributes.betaReviewState = 'APPROVED';
    }
    const w = stats(walls);
    const overhead = stats(walls.map((x) => x - 2 * processing * 1000));
    // JWTs: one deploy mints one; an hour of polling every 30 s on a fake clock mints one per ~17 minutes.
    const clock = new FakeClock();
    const tokens = createTokenProvider(apiKeyOf(key, 'bench'), { clock });
    for (let t = 0; t < 3600; t += 30) {
      await tokens.token();
      clock.advance(30_000);
    }
    return [
      '## Deploy',
      '',
      `\`ascend deploy\` with an external group (beta review), "What to Test", an App Store version with phased release and a review`,
      `submission; 10 MB IPA; the simulator takes ${processing} s to process the upload and ${processing} s to process the build. ${runs} runs.`,
      '',
      '| measure | median (min–max) |',
      '|---|---|',
      `| API requests per deploy, polls excluded | ${stats(work).median} (${stats(work).min}–${stats(work).max}) |`,
      `| polls (upload and build state) | ${stats(polls).median} (${stats(polls).min}–${stats(polls).max}) |`,
      `| wall time of the command | ${fmt(w.median / 1000, 2)} s (${fmt(w.min / 1000, 2)}–${fmt(w.max / 1000, 2)}) |`,
      `| wall time beyond the ${2 * processing} s of simulated processing | ${fmt(overhead.median / 1000, 2)} s (${fmt(overhead.min / 1000, 2)}–${fmt(overhead.max / 1000, 2)}) |`,
      `| distinct JWTs the simulator saw per deploy | ${stats(jwts).median} (${stats(jwts).min}–${stats(jwts).max}) |`,
      `| JWTs minted over one hour of polling every 30 s (fake clock) | ${tokens.minted} |`,
    ].join('\n');
  } finally {
    await sim.close();
  }
}
