import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { buildIpa } from '../../src/sample/builder.js';
import { BIN, type CliResult, runCli } from '../helpers/cli.js';

/**
 * Hostile input against the credential, output and terminal edges of the CLI: endless and oversized key
 * sources, a private key in the wrong field, terminal escape sequences in files, unreachable API hosts.
 * Each case checks its exit code and error code, one error line without a stack trace, no secret printed,
 * no raw control character printed, a parseable --json document, and nothing created remotely.
 */
interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
  input?: string;
  exit: number;
  code: string;
  /** Text the error line must contain (the message names the actual problem). */
  says?: RegExp;
  /** `ipa inspect --json` answers a preflight error with its facts document, not an error document. */
  facts?: boolean;
}

const posix = process.platform !== 'win32';
let sim: Simulator;
let dir: string;
let good: { keyId: string; issuerId: string; privateKeyPem: string };
let closedPort: number;
const f = (name: string) => join(dir, name);

beforeAll(async () => {
  sim = await startSimulator({ processingSeconds: 0.2 });
  dir = mkdtempSync(join(tmpdir(), 'ascend-badcli-'));
  const k = sim.createKey();
  good = { keyId: k.keyId, issuerId: k.issuerId!, privateKeyPem: k.privateKeyPem };
  writeFileSync(f('good.p8'), k.privateKeyPem, { mode: 0o600 });
  writeFileSync(f('hello.p8'), 'hello\n', { mode: 0o600 });
  writeFileSync(f('bad.json'), '{"key_id": ', { mode: 0o600 });
  writeFileSync(f('big.p8'), '');
  truncateSync(f('big.p8'), 100 * 1024 * 1024);
  if (posix) {
    execFileSync('mkfifo', [f('fifo.p8')]);
    mkdirSync(f('altool'));
    execFileSync('mkfifo', [join(f('altool'), 'AuthKey_ABCDE12345.p8')]);
  }
  mkdirSync(f('shared-home'));
  chmodSync(f('shared-home'), 0o755);
  await buildIpa(f('evil-id.ipa'), {
    bundleId: 'com.evil\u001b]0;owned\u0007\u001b[2J\u009b\u202e',
    version: '1.0',
    build: '1',
    plistFormat: 'binary',
    profile: null,
  });
  await buildIpa(f('evil-entry.ipa'), {
    version: '1.0',
    build: '1',
    extraEntries: [{ name: 'Payload/@@/\u001b]0;t\u0007.sh', data: Buffer.from('x') }],
  });
  const { readFileSync } = await import('node:fs');
  writeFileSync(
    f('evil-entry.ipa'),
    Buffer.from(
      readFileSync(f('evil-entry.ipa')).toString('latin1').replaceAll('Payload/@@/', 'Payload/../'),
      'latin1',
    ),
  );
  // A port that was free a moment ago: nothing listens there.
  closedPort = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

function cases(): Case[] {
  const api = ['--api-url', sim.url];
  const ids = ['--key-id', 'ABCDE12345', '--issuer-id', '69a6de70-03db-47e3-e053-5b8c7c11a4d1'];
  const apps = (pk: string, extra: string[] = []) => ['apps', 'list', ...api, ...ids, '--private-key', pk, ...extra];
  const b64 = Buffer.from(good.privateKeyPem).toString('base64');
  const body = good.privateKeyPem
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('');
  const fileCases: Case[] = posix
    ? [
        { name: '/dev/zero', args: apps('/dev/zero'), exit: 6, code: 'KEY_FILE_NOT_REGULAR', says: /device/ },
        { name: '/dev/urandom', args: apps('/dev/urandom'), exit: 6, code: 'KEY_FILE_NOT_REGULAR' },
        { name: 'a FIFO', args: apps(f('fifo.p8')), exit: 6, code: 'KEY_FILE_NOT_REGULAR', says: /pipe/ },
        { name: '@file:/dev/zero', args: apps('@file:/dev/zero'), exit: 6, code: 'KEY_FILE_NOT_REGULAR' },
        {
          name: 'ASC_PRIVATE_KEY_PATH=/dev/zero',
          args: ['apps', 'list', ...api],
          env: { ASC_KEY_ID: 'ABCDE12345', ASC_ISSUER_ID: good.issuerId, ASC_PRIVATE_KEY_PATH: '/dev/zero' },
          exit: 6,
          code: 'KEY_FILE_NOT_REGULAR',
        },
        {
          name: 'APP_STORE_CONNECT_API_KEY_PATH=/dev/urandom',
          args: ['apps', 'list', ...api],
          env: { APP_STORE_CONNECT_API_KEY_PATH: '/dev/urandom' },
          exit: 6,
          code: 'KEY_FILE_NOT_REGULAR',
        },
        {
          name: "a FIFO in altool's folder",
          args: ['apps', 'list', ...api, ...ids],
          env: { API_PRIVATE_KEYS_DIR: f('altool') },
          exit: 6,
          code: 'KEY_FILE_NOT_REGULAR',
        },
        {
          name: 'keys add --private-key /dev/zero',
          args: ['keys', 'add', '--name', 'z', ...ids, '--private-key', '/dev/zero'],
          exit: 6,
          code: 'KEY_FILE_NOT_REGULAR',
        },
        {
          name: 'keys add into an ASCEND_HOME others can read',
          args: [
            'keys',
            'add',
            '--name',
            'ci',
            '--key-id',
            good.keyId,
            '--issuer-id',
            good.issuerId,
            '--private-key',
            f('good.p8'),
          ],
          env: { ASCEND_HOME: f('shared-home') },
          exit: 6,
          code: 'HOME_PERMISSIONS',
          says: /chmod 700/,
        },
      ]
    : [];
  return [
    ...fileCases,
    { name: 'a sparse 100 MB file', args: apps(f('big.p8')), exit: 6, code: 'KEY_FILE_TOO_LARGE' },
    {
      // Smaller than a pipe's buffer, so the harness can write it all; the endless case is tested below.
      name: '`-` on a stream longer than any key',
      args: apps('-'),
      input: 'A'.repeat(40 * 1024),
      exit: 6,
      code: 'KEY_FILE_TOO_LARGE',
    },
    {
      name: 'the base64 key as --key-id, with --verbose',
      args: [
        'apps',
        'list',
        ...api,
        '--verbose',
        '--key-id',
        b64,
        '--issuer-id',
        good.issuerId,
        '--private-key',
        f('good.p8'),
      ],
      exit: 6,
      code: 'KEY_ID_INVALID',
      says: /characters of base64-like text, not shown/,
    },
    {
      name: 'the base64 key as ASC_KEY_ID',
      args: ['apps', 'list', ...api],
      env: { ASC_KEY_ID: b64, ASC_ISSUER_ID: good.issuerId, ASC_PRIVATE_KEY_PATH: f('good.p8') },
      exit: 6,
      code: 'KEY_ID_INVALID',
    },
    {
      name: 'the PEM body as --issuer-id',
      args: ['apps', 'list', ...api, '--key-id', good.keyId, '--issuer-id', body, '--private-key', f('good.p8')],
      exit: 6,
      code: 'ISSUER_ID_INVALID',
      says: /not shown/,
    },
    {
      name: 'keys add with a text file as key',
      args: ['keys', 'add', '--name', 'y', ...ids, '--private-key', f('hello.p8')],
      exit: 6,
      code: 'KEY_NOT_PEM',
      says: /starts with "-----BEGIN PRIVATE KEY-----"\.$/,
    },
    {
      name: 'keys add with damaged key JSON',
      args: ['keys', 'add', '--name', 'y', '--private-key', f('bad.json')],
      exit: 6,
      code: 'KEY_JSON_INVALID',
    },
    {
      name: 'a bundle ID with terminal escapes',
      args: ['ipa', 'inspect', f('evil-id.ipa')],
      exit: 6,
      code: 'PREFLIGHT_FAILED',
      facts: true,
    },
    {
      name: 'a zip entry name with terminal escapes',
      args: ['ipa', 'inspect', f('evil-entry.ipa')],
      exit: 6,
      code: 'IPA_UNSAFE_PATH',
      says: /\\x1b\]0;t\\x07/,
      facts: true,
    },
    {
      name: '--api-url on a port fetch refuses',
      args: ['apps', 'list', '--api-url', 'http://127.0.0.1:1', '--private-key', f('good.p8'), ...ids],
      exit: 9,
      code: 'NETWORK_ERROR',
      says: /no answer from 127\.0\.0\.1:1: port 1 is on the list of ports that fetch refuses/,
    },
    {
      // .invalid never resolves (RFC 2606), with or without a network.
      name: '--api-url on an unknown host',
      args: ['apps', 'list', '--api-url', 'http://nosuchhost.invalid', '--private-key', f('good.p8'), ...ids],
      exit: 9,
      code: 'NETWORK_ERROR',
      says: /no answer from nosuchhost\.invalid: the host name nosuchhost\.invalid cannot be resolved/,
    },
    {
      name: '--api-url on a closed port',
      args: ['apps', 'list', '--api-url', 'http://127.0.0.1:CLOSED', '--private-key', f('good.p8'), ...ids],
      exit: 9,
      code: 'NETWORK_ERROR',
      says: /no answer from 127\.0\.0\.1:\d+: connection refused/,
    },
  ];
}

describe('bad-input corpus: credentials, output and terminal', () => {
  it('every case exits with its code, in one clean line, with --json parseable, and changes nothing', async () => {
    const all = cases().map((c) => ({
      ...c,
      args: c.args.map((a) => a.replace('CLOSED', String(closedPort))),
    }));
    expect(all.length).toBeGreaterThanOrEqual(posix ? 20 : 11);
    const before = JSON.stringify(sim.store.snapshot().resources);
    const results: CliResult[] = [];
    for (let i = 0; i < all.length; i += 6) {
      results.push(
        ...(await Promise.all(
          all.slice(i, i + 6).map((c) => runCli([...c.args, '--json'], { env: c.env, input: c.input })),
        )),
      );
    }
    const failures: string[] = [];
    all.forEach((c, i) => {
      const r = results[i]!;
      const errLines = r.stderr.split('\n').filter((l) => l.startsWith('ascend:'));
      let doc: { error?: { code?: string } } | undefined;
      try {
        doc = JSON.parse(r.stdout);
      } catch {
        doc = undefined;
      }
      const problems = [
        r.code !== c.exit && `exit ${r.code} (want ${c.exit})`,
        errLines.length !== 1 && `${errLines.length} error lines`,
        !r.stderr.includes(`[${c.code}]`) && `no [${c.code}]`,
        doc === undefined && 'stdout is not one JSON document',
        !c.facts && doc?.error?.code !== c.code && 'stdout is not the JSON error document',
        // --verbose asks for the stack; without it there is none.
        !c.args.includes('--verbose') && /\n\s+at /.test(r.stderr) && 'stack trace',
        // Raw control characters (ESC, BEL, C1, bidi) must never reach the terminal.
        /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/.test(r.stdout + r.stderr) && 'raw control character',
        c.says && !c.says.test(errLines[0] ?? '') && `error line does not say ${c.says}`,
      ].filter(Boolean);
      if (problems.length) failures.push(`${c.name}: ${problems.join(', ')} — ${r.stderr.trim().slice(0, 300)}`);
    });
    expect(failures).toEqual([]);
    expect([...sim.stats.entries()].filter(([k]) => !k.startsWith('GET'))).toEqual([]);
    expect(JSON.stringify(sim.store.snapshot().resources)).toBe(before);
    const printed = results.map((r) => r.stdout + r.stderr).join('\n');
    const b64 = Buffer.from(good.privateKeyPem).toString('base64');
    expect(printed).not.toContain(b64.slice(0, 40));
    for (const line of good.privateKeyPem.split('\n').filter((l) => l && !l.startsWith('-----')))
      expect(printed).not.toContain(line);
  }, 120_000);

  it.runIf(posix)(
    '`--private-key -` on an endless standard input (/dev/zero) ends with KEY_FILE_TOO_LARGE',
    async () => {
      const zero = openSync('/dev/zero', 'r');
      try {
        const child = spawn(
          process.execPath,
          [
            BIN,
            'apps',
            'list',
            '--api-url',
            sim.url,
            '--key-id',
            good.keyId,
            '--issuer-id',
            good.issuerId,
            '--private-key',
            '-',
          ],
          {
            stdio: [zero, 'pipe', 'pipe'],
            env: { PATH: process.env.PATH ?? '', HOME: dir, ASCEND_HOME: f('zero-home') },
          },
        );
        let stderr = '';
        child.stderr?.on('data', (d) => {
          stderr += d;
        });
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        expect(code).toBe(6);
        expect(stderr).toContain('[KEY_FILE_TOO_LARGE]');
        expect(stderr.split('\n').filter(Boolean)).toHaveLength(1);
      } finally {
        closeSync(zero);
      }
    },
    30_000,
  );
});
