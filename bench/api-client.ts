import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SEED } from '../simulator/seed.js';
import { fmt, machine, probe, stats } from './lib.js';
import { startSimProcess } from './upload.js';

interface ListResult {
  ms: number;
  /** CPU time of the client process during the listing: the client's own work, whatever else the machine runs. */
  cpuMs: number;
  requests: number;
  count: number;
  maxRssMB: number;
}

/** Listing 1,000 builds through the simulator (five pages of 200), ascend's client beside a published one. */
export async function benchApiClient(tmp: string, havePeers: boolean, runs = 15): Promise<string> {
  const dir = join(tmp, 'api');
  mkdirSync(dir, { recursive: true });
  const builds = Array.from({ length: 1000 }, (_, i) => ({
    app: 'com.example.sandbox.two',
    version: `1.${Math.floor(i / 100)}.0`,
    buildNumber: String(i + 1),
    uploadedDate: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
  }));
  writeFileSync(join(dir, 'seed.json'), JSON.stringify({ ...DEFAULT_SEED, builds }));
  const load = loadavg()[0]!;
  const sim = await startSimProcess(['--seed', 'seed.json', '--write-key', 'k.json'], dir);
  try {
    const subjects: [string, string, string[]][] = [
      ['ascend (createAscClient + listBuilds)', 'list-ascend.mjs', []],
      ['ascend, every field (collect, no `fields`)', 'list-ascend.mjs', ['every-field']],
    ];
    if (havePeers) subjects.push(['appstore-connect-sdk 2.0.0 (pages by hand)', 'list-peer.mjs', []]);
    const results = subjects.map((): ListResult[] => []);
    // Runs alternate between the clients, so a change in the machine's load falls on both alike.
    for (let i = 0; i < runs; i++)
      for (const [n, [, script, extra]] of subjects.entries())
        results[n]!.push(
          await probe<ListResult>(join(import.meta.dirname, 'probes', script), [
            sim.url,
            join(dir, 'k.json'),
            '1000000002',
            ...extra,
          ]),
        );
    const rows = subjects.map(([label], n) => {
      const r = results[n]!;
      if (r.some((x) => x.count !== 1000)) throw new Error(`${label} listed ${r[0]?.count} builds`);
      const t = stats(r.map((x) => x.ms));
      const c = stats(r.map((x) => x.cpuMs));
      return `| ${label} | ${fmt(t.median)} ms (${fmt(t.min)}–${fmt(t.max)}) | ${fmt(c.median)} ms (${fmt(c.min)}–${fmt(c.max)}) | ${r[0]!.requests} | ${fmt(stats(r.map((x) => x.maxRssMB)).median, 0)} MB |`;
    });
    return [
      '## API client: 1,000 builds',
      '',
      `Every build of an app with 1,000 builds, through the simulator (its own process), ${runs} runs of each client in`,
      'fresh processes, alternating. Every client asks for 200 per page and includes the pre-release version. ascend',
      'names the fields it reads (`fields[builds]`: every attribute and the pre-release version link), so each page',
      'carries no links to the thirteen other relationships and is about a fifth the size. The peer probe sends no',
      '`fields`, so it gets every field; the second row reads those same full pages with the ascend client.',
      '"Client CPU" is the CPU time of the client process during the listing: its own work, whatever else the machine',
      "is doing. The wall time includes the simulator building each page. Node's fetch is loaded before the clock",
      'starts in every probe (the peer SDK loads it on import), so the time is the listing alone.',
      '',
      `Measured on ${new Date().toISOString().slice(0, 10)} on ${machine()}; load average ${fmt(load, 1)} when it began.`,
      '',
      '| client | time median (min–max) | client CPU median (min–max) | requests | peak RSS of the process |',
      '|---|---|---|---|---|',
      ...rows,
      ...(havePeers ? [] : ['', 'The peer client could not be installed here, so only ascend is measured.']),
    ].join('\n');
  } finally {
    sim.stop();
  }
}
