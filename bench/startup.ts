import { join } from 'node:path';
import { fmt, stats, timed } from './lib.js';
import { PEER_DIR } from './peers.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'ascend');

/** CLI start-up against bare Node (the floor) and eas-cli (a peer), median of several runs each. */
export async function benchStartup(havePeers: boolean, runs = 15): Promise<string> {
  const subjects: [string, string, string[]][] = [
    ['node -e 0', process.execPath, ['-e', '0']],
    ['ascend --version', process.execPath, [BIN, '--version']],
    ['ascend --help', process.execPath, [BIN, '--help']],
  ];
  if (havePeers)
    subjects.push([
      'eas --version (eas-cli 24.8.0)',
      process.execPath,
      [join(PEER_DIR, 'node_modules', 'eas-cli', 'bin', 'run'), '--version'],
    ]);
  const results: [string, ReturnType<typeof stats>][] = [];
  for (const [label, cmd, args] of subjects) {
    await timed(cmd, args); // warm the file cache
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) ms.push((await timed(cmd, args)).ms);
    results.push([label, stats(ms)]);
  }
  const floor = results[0]![1].median;
  return [
    '## CLI start-up',
    '',
    `Wall time of the whole process, ${runs} runs each after one warm-up. Targets (DESIGN §4): \`--version\` ≤ 1.5× and \`--help\` ≤ 2× bare Node.`,
    '',
    '| command | median | min–max | × bare node |',
    '|---|---|---|---|',
    ...results.map(
      ([l, s]) => `| ${l} | ${fmt(s.median)} ms | ${fmt(s.min)}–${fmt(s.max)} ms | ${fmt(s.median / floor, 2)}× |`,
    ),
    ...(havePeers ? [] : ['', 'eas-cli could not be installed here, so it is not in the table.']),
  ].join('\n');
}
