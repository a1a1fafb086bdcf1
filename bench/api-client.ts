import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SEED } from '../simulator/seed.js';
import { fmt, probe, stats } from './lib.js';
import { startSimProcess } from './upload.js';

interface ListResult {
  ms: number;
  requests: number;
  count: number;
  maxRssMB: number;
}

/** Listing 1,000 builds through the simulator (five pages of 200), ascend's client beside a published one. */
export async function benchApiClient(tmp: string, havePeers: boolean, runs = 5): Promise<string> {
  const dir = join(tmp, 'api');
  mkdirSync(dir, { recursive: true });
  const builds = Array.from({ length: 1000 }, (_, i) => ({
    app: 'com.example.sandbox.two',
    version: `1.${Math.floor(i / 100)}.0`,
    buildNumber: String(i + 1),
    uploadedDate: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
  }));
  writeFileSync(join(dir, 'seed.json'), JSON.stringify({ ...DEFAULT_SEED, builds }));
  const sim = await startSimProcess(['--seed', 'seed.json', '--write-key', 'k.json'], dir);
  try {
    const rows: string[] = [];
    const subjects: [string, string][] = [['ascend (createAscClient + listBuilds)', 'list-ascend.mjs']];
    if (havePeers) subjects.push(['appstore-connect-sdk 2.0.0 (pages by hand)', 'list-peer.mjs']);
    for (const [label, script] of subjects) {
      const results: ListResult[] = [];
      for (let i = 0; i < runs; i++)
        results.push(
          await probe<ListResult>(join(import.meta.dirname, 'probes', script), [
            sim.url,
            join(dir, 'k.json'),
            '1000000002',
          ]),
        );
      if (results.some((r) => r.count !== 1000)) throw new Error(`${label} listed ${results[0]?.count} builds`);
      const t = stats(results.map((r) => r.ms));
      rows.push(
        `| ${label} | ${fmt(t.median)} ms (${fmt(t.min)}–${fmt(t.max)}) | ${results[0]!.requests} | ${fmt(stats(results.map((r) => r.maxRssMB)).median, 0)} MB |`,
      );
    }
    return [
      '## API client: 1,000 builds',
      '',
      `Every build of an app with 1,000 builds, through the simulator (its own process), ${runs} runs in fresh processes.`,
      'Both clients ask for 200 per page and include the pre-release version.',
      '',
      '| client | time median (min–max) | requests | peak RSS of the process |',
      '|---|---|---|---|',
      ...rows,
      ...(havePeers ? [] : ['', 'The peer client could not be installed here, so only ascend is measured.']),
    ].join('\n');
  } finally {
    sim.stop();
  }
}
