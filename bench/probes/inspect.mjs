// Probe: inspects one IPA in a fresh process and prints elapsed ms and peak RSS (MB).
import { inspectIpa } from '../../dist/src/ipa/inspect.js';

const start = process.hrtime.bigint();
const facts = await inspectIpa(process.argv[2]);
const ms = Number(process.hrtime.bigint() - start) / 1e6;
if (!facts.app?.bundleId) throw new Error('inspection found no app');
console.log(JSON.stringify({ ms, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
