import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../src/sample/builder.js';
import { fmt, probe, stats, timed } from './lib.js';

const MiB = 1024 * 1024;

/** `ascend ipa inspect` on large IPAs: it must read the zip directory, not the file (DESIGN §4: 2 GiB ≤ 300 ms). */
export async function benchIpaInspect(tmp: string, runs = 5): Promise<string> {
  mkdirSync(tmp, { recursive: true });
  const rows: string[] = [];
  for (const [label, bytes, payloadFirst] of [
    ['100 MiB', 100 * MiB, false],
    ['2 GiB', 2048 * MiB, false],
    ['4.5 GiB, Info.plist and profile past 4 GiB (zip64)', 4608 * MiB, true],
  ] as const) {
    const file = join(tmp, `inspect-${bytes}${payloadFirst ? '-late' : ''}.ipa`);
    if (!existsSync(file) || statSync(file).size < bytes) await buildIpa(file, { payloadBytes: bytes, payloadFirst });
    const inProcess: number[] = [];
    const rss: number[] = [];
    const cli: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await probe<{ ms: number; maxRssMB: number }>(join(import.meta.dirname, 'probes', 'inspect.mjs'), [
        file,
      ]);
      inProcess.push(r.ms);
      rss.push(r.maxRssMB);
      const c = await timed(
        process.execPath,
        [join(import.meta.dirname, '..', 'bin', 'ascend'), 'ipa', 'inspect', file, '--json'],
        // The sample IPA's profile is signed by the sample root, not Apple.
        { env: { ...process.env, ASCEND_EXTRA_TRUSTED_ROOTS: SAMPLE_ROOT_SHA256 } },
      );
      if (c.code !== 0) throw new Error(`ipa inspect exited ${c.code}`);
      cli.push(c.ms);
    }
    const a = stats(inProcess);
    const b = stats(cli);
    rows.push(
      `| ${label} (${fmt(statSync(file).size / MiB, 0)} MiB file) | ${fmt(a.median)} ms (${fmt(a.min)}–${fmt(a.max)}) | ${fmt(b.median)} ms (${fmt(b.min)}–${fmt(b.max)}) | ${fmt(stats(rss).max, 0)} MB |`,
    );
  }
  return [
    '## IPA inspect',
    '',
    `Inspection of an IPA whose app carries one large stored file, ${runs} runs each. "In process" is \`inspectIpa()\` alone in a fresh`,
    'Node process; "CLI" is the whole `ascend ipa inspect FILE --json` command including Node start-up. Target: 2 GiB ≤ 300 ms.',
    '',
    '| IPA | inspectIpa() median (min–max) | CLI median (min–max) | peak RSS |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}
