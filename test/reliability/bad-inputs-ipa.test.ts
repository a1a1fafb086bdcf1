import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { DEFAULT_SEED } from '../../simulator/seed.js';
import { buildIpa, makeProfile, SAMPLE_ROOT_SHA256 } from '../../src/sample/builder.js';
import {
  bplistDataOverrun,
  bplistExpansionBomb,
  type RawZipEntry,
  xmlHiddenNesting,
  xmlManyElements,
  zipOf,
} from '../../src/sample/hostile.js';
import { BIN, type CliResult, runCli } from '../helpers/cli.js';

/**
 * The bad-input corpus for the IPA inspector (issue 10 items 1, 2, 3, 5, 6, 17, 19): hostile archives,
 * plists and profiles generated here, run through `ipa inspect`, `upload` and `deploy` with a 128 MB heap.
 * Each case exits with its code and names its error in one line, with no stack trace, and not one of them
 * creates anything on App Store Connect.
 */
interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
  exit: number;
  code: string;
  /** Text the error line must also hold (the preflight finding's code, say). */
  also?: string;
}

/** A regression that blows the heap crashes this child with a V8 fatal error, never the machine. */
const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=128' };
let sim: Simulator;
let dir: string;
const f = (name: string) => join(dir, name);

const plistXml = (extra = '') =>
  Buffer.from(
    `<?xml version="1.0"?><plist version="1.0"><dict><key>CFBundleIdentifier</key><string>com.example.sandbox.one</string>${extra}</dict></plist>`,
  );
const rawApp = (extra: RawZipEntry[] = []): RawZipEntry[] => [
  { name: 'Payload/X.app/Info.plist', data: plistXml() },
  { name: 'Payload/X.app/X', data: Buffer.from([0xcf, 0xfa, 0xed, 0xfe]) },
  ...extra,
];

beforeAll(async () => {
  sim = await startSimulator({ processingSeconds: 0.2, seed: DEFAULT_SEED });
  dir = mkdtempSync(join(tmpdir(), 'ascend-bad-ipa-'));
  const k = sim.createKey();
  writeFileSync(f('key.json'), JSON.stringify({ key_id: k.keyId, issuer_id: k.issuerId, key: k.privateKeyPem }), {
    mode: 0o600,
  });
  const ipas: [string, Parameters<typeof buildIpa>[1]][] = [
    ['bplist-bomb.ipa', { rawPlist: bplistExpansionBomb() }],
    ['bplist-overrun.ipa', { rawPlist: bplistDataOverrun() }],
    ['xml-million.ipa', { rawPlist: xmlManyElements() }],
    ['xml-hidden-depth.ipa', { rawPlist: xmlHiddenNesting() }],
    ['long-version.ipa', { version: '9'.repeat(10_000), build: '1' }],
    ['long-build.ipa', { version: '1.6.0', build: `1.${'0'.repeat(19)}` }],
    ['enterprise.ipa', { version: '1.6.0', build: '1', profile: { kind: 'enterprise' } }],
    ['foreign-signer.ipa', { version: '1.6.0', build: '1', profile: { signer: 'foreign' } }],
    ['macos-profile.ipa', { version: '1.6.0', build: '1', profile: { platforms: ['OSX'] } }],
    ['ok.ipa', { version: '1.6.0', build: '1' }],
  ];
  for (const [name, spec] of ipas) await buildIpa(f(name), spec);
  // A signed profile whose plist is a bplist with a data object running 3,000 bytes past its end.
  await buildIpa(f('profile-overrun.ipa'), {
    version: '1.6.0',
    build: '1',
    profile: null,
    extraEntries: [
      {
        name: 'Payload/Sample.app/embedded.mobileprovision',
        data: makeProfile('com.example.sandbox.one', { rawContent: bplistDataOverrun() }),
      },
    ],
  });
  const many = Array.from({ length: 300_000 }, (_, i) => ({ name: `Payload/X.app/r/${i}`, data: Buffer.alloc(0) }));
  writeFileSync(f('many-entries.ipa'), zipOf(rawApp(many)));
  const shared = Array.from({ length: 60_000 }, (_, i) => ({
    name: `Payload/X.app/copy${i}`,
    data: Buffer.alloc(0),
    sharesLocalOf: 1,
  }));
  writeFileSync(f('overlapping.ipa'), zipOf(rawApp(shared)));
  writeFileSync(
    f('two-info-plists.ipa'),
    zipOf(rawApp([{ name: 'Payload/X.app/Info.plist', data: plistXml('<key>Evil</key><true/>') }])),
  );
  writeFileSync(
    f('name-mismatch.ipa'),
    zipOf([
      { name: 'Payload/X.app/Info.plist', localName: 'Payload/X.app/Other.plist', data: plistXml() },
      { name: 'Payload/X.app/X', data: Buffer.from('x') },
    ]),
  );
  // Four extensions, each Info.plist valid and 7.5 MB: over the 24 MiB total for one archive's metadata.
  const padded = (i: number) =>
    Buffer.from(
      `<plist><dict><key>CFBundleIdentifier</key><string>com.example.sandbox.one.e${i}</string><!--${' '.repeat(7_500_000)}--></dict></plist>`,
    );
  await buildIpa(f('fat-extensions.ipa'), {
    extensions: Array.from({ length: 4 }, (_, i) => ({ name: `E${i}`, profile: null, rawPlist: padded(i) })),
  });
  mkdirSync(f('a-folder'));
  mkdirSync(f('MyApp.xcarchive'));
}, 120_000);
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

function cases(): Case[] {
  const key = { APP_STORE_CONNECT_API_KEY_PATH: f('key.json') };
  const api = ['--api-url', sim.url];
  const inspect = (file: string, exit: number, code: string, also?: string): Case => ({
    name: `ipa inspect ${file}`,
    args: ['ipa', 'inspect', f(file)],
    exit,
    code,
    also,
  });
  const deploy = (file: string, exit: number, code: string, also?: string, dryRun = true): Case => ({
    name: `deploy${dryRun ? ' --dry-run' : ''} ${file}`,
    args: ['deploy', f(file), ...(dryRun ? ['--dry-run'] : []), ...api],
    env: key,
    exit,
    code,
    also,
  });
  const upload = (file: string, exit: number, code: string, also?: string): Case => ({
    name: `upload ${file}`,
    args: ['upload', f(file), ...api],
    env: key,
    exit,
    code,
    also,
  });
  return [
    // item 1: exponential binary plist
    inspect('bplist-bomb.ipa', 6, 'PLIST_INVALID', 'expands to more than'),
    upload('bplist-bomb.ipa', 6, 'PLIST_INVALID'),
    deploy('bplist-bomb.ipa', 6, 'PLIST_INVALID'),
    // item 2: out-of-bounds data, in an Info.plist and in a signed profile
    inspect('bplist-overrun.ipa', 6, 'PLIST_INVALID', 'running past the end'),
    inspect('profile-overrun.ipa', 6, 'PREFLIGHT_FAILED', 'PROFILE_UNREADABLE'),
    deploy('profile-overrun.ipa', 6, 'PREFLIGHT_FAILED', 'PROFILE_UNREADABLE'),
    // item 3: huge and hidden-deep XML plists
    inspect('xml-million.ipa', 6, 'PLIST_INVALID', 'more than 200000 elements'),
    upload('xml-million.ipa', 6, 'PLIST_INVALID'),
    inspect('xml-hidden-depth.ipa', 6, 'PLIST_INVALID', 'nests deeper than 64'),
    // item 5: zip directory attacks
    inspect('many-entries.ipa', 6, 'IPA_TOO_MANY_ENTRIES'),
    deploy('many-entries.ipa', 6, 'IPA_TOO_MANY_ENTRIES'),
    inspect('overlapping.ipa', 6, 'IPA_OVERLAPPING_ENTRIES'),
    upload('overlapping.ipa', 6, 'IPA_OVERLAPPING_ENTRIES'),
    inspect('two-info-plists.ipa', 6, 'IPA_DUPLICATE_ENTRY', 'Info.plist'),
    inspect('name-mismatch.ipa', 6, 'IPA_NAME_MISMATCH', 'Other.plist'),
    inspect('fat-extensions.ipa', 6, 'IPA_ENTRY_TOO_LARGE', 'bytes of Info.plists and profiles'),
    // item 6: versions Apple refuses, refused before anything is created (a real deploy, not a dry run)
    inspect('long-version.ipa', 6, 'PREFLIGHT_FAILED', 'SHORT_VERSION_INVALID'),
    deploy('long-version.ipa', 6, 'PREFLIGHT_FAILED', 'SHORT_VERSION_INVALID', false),
    upload('long-version.ipa', 6, 'PREFLIGHT_FAILED', 'SHORT_VERSION_INVALID'),
    deploy('long-build.ipa', 6, 'PREFLIGHT_FAILED', 'BUILD_VERSION_INVALID', false),
    // item 17: profiles App Store Connect refuses
    inspect('enterprise.ipa', 6, 'PREFLIGHT_FAILED', 'PROFILE_NOT_APP_STORE'),
    deploy('enterprise.ipa', 6, 'PREFLIGHT_FAILED', 'PROFILE_NOT_APP_STORE', false),
    inspect('foreign-signer.ipa', 6, 'PREFLIGHT_FAILED', 'PROFILE_UNTRUSTED_SIGNER'),
    upload('foreign-signer.ipa', 6, 'PREFLIGHT_FAILED', 'PROFILE_UNTRUSTED_SIGNER'),
    inspect('macos-profile.ipa', 6, 'PREFLIGHT_FAILED', 'PROFILE_PLATFORM_MISMATCH'),
    {
      ...inspect('ok.ipa', 6, 'PREFLIGHT_FAILED', 'PROFILE_UNTRUSTED_SIGNER'),
      name: 'the sample root is not trusted unless named',
      env: { ASCEND_EXTRA_TRUSTED_ROOTS: '' },
    },
    {
      ...deploy('ok.ipa', 6, 'PREFLIGHT_FAILED', 'PROFILE_UNTRUSTED_SIGNER', false),
      name: 'deploy of a sample IPA without trusting the sample root',
      env: { ...key, ASCEND_EXTRA_TRUSTED_ROOTS: '' },
    },
    {
      ...inspect('ok.ipa', 2, 'USAGE', 'ASCEND_EXTRA_TRUSTED_ROOTS'),
      name: 'a malformed ASCEND_EXTRA_TRUSTED_ROOTS',
      env: { ASCEND_EXTRA_TRUSTED_ROOTS: 'not-a-fingerprint' },
    },
    // item 19: a folder instead of a file
    inspect('a-folder', 6, 'FILE_IS_DIRECTORY', 'is a directory'),
    inspect('MyApp.xcarchive', 6, 'FILE_IS_DIRECTORY', 'xcodebuild -exportArchive'),
    deploy('MyApp.xcarchive', 6, 'FILE_IS_DIRECTORY'),
  ];
}

describe('bad-input corpus: hostile IPAs, plists and profiles', () => {
  it('every case exits with its code and names its error, in one line, changing nothing remotely', async () => {
    const all = cases();
    const before = JSON.stringify(sim.store.snapshot().resources);
    const results: CliResult[] = [];
    // Two at a time: each child may use up to its 128 MB heap.
    for (let i = 0; i < all.length; i += 2) {
      results.push(
        ...(await Promise.all(all.slice(i, i + 2).map((c) => runCli(c.args, { env: { ...SMALL_HEAP, ...c.env } })))),
      );
    }
    const failures: string[] = [];
    all.forEach((c, i) => {
      const r = results[i]!;
      const errLines = r.stderr.split('\n').filter((l) => l.startsWith('ascend:'));
      if (
        r.code !== c.exit ||
        !r.stderr.includes(`[${c.code}]`) ||
        (c.also && !errLines.join('\n').includes(c.also)) ||
        errLines.length !== 1 ||
        /\n\s+at /.test(r.stderr)
      ) {
        failures.push(
          `${c.name}: exit ${r.code} (want ${c.exit}), want [${c.code}] ${c.also ?? ''} — ${r.stderr.slice(0, 400)}`,
        );
      }
    });
    expect(failures).toEqual([]);
    const writes = [...sim.stats.entries()].filter(([k]) => !k.startsWith('GET'));
    expect(writes).toEqual([]);
    expect(JSON.stringify(sim.store.snapshot().resources)).toBe(before);
  }, 300_000);

  it('a signed profile with an out-of-bounds plist puts no foreign bytes into --json', async () => {
    const r = await runCli(['ipa', 'inspect', f('profile-overrun.ipa'), '--json'], { env: SMALL_HEAP });
    expect(r.code).toBe(6);
    const doc = JSON.parse(r.stdout) as { app: { profile: unknown; profileError: string } };
    expect(doc.app.profile).toBeNull();
    expect(doc.app.profileError).toMatch(/data object running past the end/);
    expect(r.stdout.length).toBeLessThan(6000);
  });

  it('inspects every hostile input within the 150 MB budget (peak RSS of the whole process)', async () => {
    const files = [
      'bplist-bomb.ipa',
      'bplist-overrun.ipa',
      'profile-overrun.ipa',
      'xml-million.ipa',
      'xml-hidden-depth.ipa',
      'many-entries.ipa',
      'overlapping.ipa',
      'two-info-plists.ipa',
      'name-mismatch.ipa',
      'long-version.ipa',
      'fat-extensions.ipa',
    ];
    const peaks: Record<string, number> = {};
    for (const file of files) peaks[file] = await peakRssKiB(['ipa', 'inspect', f(file), '--json']);
    const over = Object.entries(peaks).filter(([, kib]) => kib > 150 * 1024);
    expect(over, JSON.stringify(peaks)).toEqual([]);
  }, 120_000);
});

/** Runs bin/ascend with a 128 MB heap and returns the process's own peak resident memory, as the OS counts it. */
function peakRssKiB(args: string[]): Promise<number> {
  // VmHWM is this process's own high-water mark (it starts afresh at exec); getrusage's maxRSS would start
  // from the forking test worker's RSS. Where /proc is absent, maxRSS is the (upper-bound) fallback.
  const code = `import { readFileSync } from 'node:fs';
const peak = () => { try { return Number(/VmHWM:\\s*(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]); } catch { return process.resourceUsage().maxRSS; } };
process.on('exit', () => process.stderr.write('\\npeak-rss-kib ' + peak() + '\\n'));
process.argv.splice(1, 0, 'ascend');
await import(${JSON.stringify(BIN)});`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=128', '--input-type=module', '-e', code, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: dir, ASCEND_EXTRA_TRUSTED_ROOTS: SAMPLE_ROOT_SHA256 },
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (status) => {
      const m = /peak-rss-kib (\d+)/.exec(stderr);
      if (!m || status === null || status > 6) reject(new Error(`ascend ${args.join(' ')} ended ${status}: ${stderr}`));
      else resolve(Number(m[1]));
    });
  });
}
