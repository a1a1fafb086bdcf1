// `npm run bench`: every benchmark, several runs each; rewrites bench/RESULTS.md. Never part of `npm test`.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchIpaInspect } from './ipa-inspect.js';
import { machine } from './lib.js';

const only = process.argv.slice(2);
const tmp = join(import.meta.dirname, '.tmp');
const sections: string[] = [];
const started = Date.now();
const want = (name: string) => only.length === 0 || only.includes(name);

if (want('ipa')) sections.push(await benchIpaInspect(tmp));

const doc = [
  '# Benchmark results',
  '',
  `Run on ${new Date().toISOString().slice(0, 10)} with \`npm run bench\` on: ${machine()}.`,
  `Total benchmark time: ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  '',
  ...sections.flatMap((s) => [s, '']),
].join('\n');
writeFileSync(join(import.meta.dirname, 'RESULTS.md'), doc);
console.log(doc);
if (!process.env.BENCH_KEEP) rmSync(tmp, { recursive: true, force: true });
