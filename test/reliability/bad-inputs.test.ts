import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { DEFAULT_SEED } from '../../simulator/seed.js';
import { buildIpa } from '../../src/sample/builder.js';
import { type CliResult, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

/**
 * The bad-input corpus: keys, IPAs, plists, profiles, options, config and environment combinations, each
 * with its exit code and error code — and not one of them may create anything on App Store Connect, or
 * print a secret.
 */
interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
  input?: string;
  exit: number;
  code: string;
}

const ISSUER = '69a6de70-03db-47e3-e053-5b8c7c11a4d1';
let sim: Simulator;
let dir: string;
let good: { keyId: string; issuerId: string; privateKeyPem: string };
const f = (name: string) => join(dir, name);
const pem = (k: import('node:crypto').KeyObject, type: 'pkcs8' | 'spki') =>
  k.export({ format: 'pem', type } as never).toString();

beforeAll(async () => {
  sim = await startSimulator({
    processingSeconds: 0.2,
    seed: {
      ...DEFAULT_SEED,
      appStoreVersions: [
        { app: 'com.example.sandbox.one', versionString: '1.5.0', appVersionState: 'READY_FOR_DISTRIBUTION' },
      ],
    },
  });
  dir = tempDir('ascend-bad-');
  const k = sim.createKey();
  good = { keyId: k.keyId, issuerId: k.issuerId!, privateKeyPem: k.privateKeyPem };
  writeFileSync(f('good.json'), JSON.stringify({ key_id: k.keyId, issuer_id: k.issuerId, key: k.privateKeyPem }), {
    mode: 0o600,
  });
  writeFileSync(f('empty.p8'), '');
  writeFileSync(f('text.p8'), 'this is not a key\n');
  writeFileSync(f('rsa.p8'), pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'pkcs8'));
  writeFileSync(f('p384.p8'), pem(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey, 'pkcs8'));
  writeFileSync(f('ed.p8'), pem(generateKeyPairSync('ed25519').privateKey, 'pkcs8'));
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(
    f('enc.p8'),
    ec.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' }).toString(),
  );
  writeFileSync(f('trunc.p8'), pem(ec.privateKey, 'pkcs8').slice(0, 100));
  writeFileSync(f('cert.p8'), '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n');
  writeFileSync(f('pub.p8'), pem(ec.publicKey, 'spki'));
  writeFileSync(f('bad.json'), '{"key_id": ');
  writeFileSync(f('nokey.json'), JSON.stringify({ key_id: 'ABCDE12345', issuer_id: ISSUER }));
  writeFileSync(f('notes.txt'), 'What to test');
  writeFileSync(f('not-a-zip.ipa'), 'not-a-zip-file\n');
  const ipas: [string, Parameters<typeof buildIpa>[1]][] = [
    ['ok.ipa', { version: '1.6.0', build: '1' }],
    ['nopayload.ipa', { appName: 'x', extraEntries: [], wrapper: undefined }],
    ['badbuild.ipa', { version: '1.6.0', build: 'seven' }],
    ['dev.ipa', { version: '1.6.0', build: '1', profile: { kind: 'development' } }],
    ['expired.ipa', { version: '1.6.0', build: '1', profile: { expires: new Date(Date.UTC(2024, 0, 1)) } }],
    ['noprofile.ipa', { version: '1.6.0', build: '1', profile: null }],
    ['simulator.ipa', { version: '1.6.0', build: '1', platformName: 'iphonesimulator' }],
    ['bomb.ipa', { rawPlist: Buffer.alloc(20 * 1024 * 1024, 0x20) }],
    ['unknown-app.ipa', { bundleId: 'com.example.nowhere', version: '1.0.0', build: '1' }],
    ['used.ipa', { version: '1.0.0', build: '2' }],
    ['noenc.ipa', { version: '1.6.0', build: '1', encryption: null }],
    ['closed.ipa', { version: '1.5.0', build: '3' }],
    [
      'badext.ipa',
      {
        version: '1.6.0',
        build: '1',
        extensions: [{ name: 'Share', bundleId: 'com.other.share', profile: { appId: '*' } }],
      },
    ],
    ['badplist.ipa', { rawPlist: Buffer.from('<?xml version="1.0"?><plist><dict><key>a</ke') }],
    ['emptyid.ipa', { bundleId: null }],
  ];
  for (const [name, spec] of ipas) await buildIpa(f(name), spec);
  // A zip that is not an app: built, then its Payload/ entry renamed.
  await buildIpa(f('nopayload.ipa'), { extraEntries: [] });
  const { readFileSync } = await import('node:fs');
  writeFileSync(
    f('nopayload.ipa'),
    Buffer.from(readFileSync(f('nopayload.ipa')).toString('latin1').replaceAll('Payload/', 'Paydirt/'), 'latin1'),
  );
  await buildIpa(f('dots.ipa'), { extraEntries: [{ name: 'Payload/@@/@@/evil.sh', data: Buffer.from('x') }] });
  writeFileSync(
    f('dots.ipa'),
    Buffer.from(
      readFileSync(f('dots.ipa')).toString('latin1').replaceAll('Payload/@@/@@/', 'Payload/../../'),
      'latin1',
    ),
  );
  // A stored key others can read.
  const home = join(dir, 'loose-home');
  mkdirSync(join(home, 'keys'), { recursive: true });
  writeFileSync(
    join(home, 'keys', 'loose.json'),
    JSON.stringify({
      name: 'loose',
      keyId: good.keyId,
      issuerId: good.issuerId,
      inHouse: false,
      privateKey: good.privateKeyPem,
      createdAt: '',
    }),
  );
  chmodSync(join(home, 'keys', 'loose.json'), 0o644);
});
afterAll(async () => {
  await sim.close();
});

function cases(): Case[] {
  const api = ['--api-url', sim.url];
  const key = { APP_STORE_CONNECT_API_KEY_PATH: f('good.json') };
  const flags = (pk: string, id = 'ABCDE12345', iss = ISSUER) => [
    '--key-id',
    id,
    '--issuer-id',
    iss,
    '--private-key',
    pk,
  ];
  const apps = (extra: string[], env?: Record<string, string>, exit = 6, code = ''): Case => ({
    name: `apps list ${extra.join(' ')}`,
    args: ['apps', 'list', ...api, ...extra],
    env,
    exit,
    code,
  });
  return [
    // keys
    { ...apps(flags(f('empty.p8'))), code: 'KEY_EMPTY', name: 'empty .p8' },
    { ...apps(flags(f('text.p8'))), code: 'KEY_NOT_PEM', name: 'text instead of a key' },
    { ...apps(flags(f('rsa.p8'))), code: 'KEY_WRONG_TYPE', name: 'RSA key' },
    { ...apps(flags(f('p384.p8'))), code: 'KEY_WRONG_CURVE', name: 'P-384 key' },
    { ...apps(flags(f('ed.p8'))), code: 'KEY_WRONG_TYPE', name: 'Ed25519 key' },
    { ...apps(flags(f('enc.p8'))), code: 'KEY_ENCRYPTED', name: 'encrypted key' },
    { ...apps(flags(f('trunc.p8'))), code: 'KEY_TRUNCATED', name: 'truncated key' },
    { ...apps(flags(f('cert.p8'))), code: 'KEY_IS_CERTIFICATE', name: 'certificate' },
    { ...apps(flags(f('pub.p8'))), code: 'KEY_IS_PUBLIC', name: 'public key' },
    { ...apps(flags(f('good.json'), 'D485S484')), code: 'KEY_ID_INVALID', name: '8-character Key ID' },
    { ...apps(flags(f('good.json'), 'abcde12345')), code: 'KEY_ID_INVALID', name: 'lower-case Key ID' },
    {
      ...apps(flags(f('rsa.p8'), 'ABCDE12345', 'not-a-uuid')),
      code: 'ISSUER_ID_INVALID',
      name: 'Issuer ID not UUID-shaped',
    },
    { ...apps([]), code: 'CREDENTIALS_MISSING', name: 'no credentials at all' },
    {
      ...apps(['--key-id', 'ABCDE12345', '--issuer-id', ISSUER]),
      code: 'CREDENTIALS_MISSING',
      name: 'Key ID without a private key',
    },
    {
      ...apps(['--key-id', 'ABCDE12345', '--private-key', f('rsa.p8')]),
      code: 'CREDENTIALS_MISSING',
      name: 'no Issuer ID',
    },
    { ...apps(flags(f('missing.p8'))), code: 'KEY_FILE_NOT_FOUND', name: 'key path does not exist' },
    { ...apps(flags('@env:NOT_SET')), code: 'CREDENTIALS_MISSING', name: '@env: of an unset variable' },
    {
      ...apps([], { APP_STORE_CONNECT_API_KEY_PATH: f('bad.json') }),
      code: 'KEY_JSON_INVALID',
      name: 'fastlane JSON not JSON',
    },
    {
      ...apps([], { APP_STORE_CONNECT_API_KEY_PATH: f('nokey.json') }),
      code: 'KEY_JSON_INVALID',
      name: 'fastlane JSON without key',
    },
    {
      ...apps(['--key-id', good.keyId, '--strict-auth'], {
        ASC_ISSUER_ID: good.issuerId,
        ASC_PRIVATE_KEY: good.privateKeyPem,
      }),
      code: 'CREDENTIALS_MIXED',
      name: '--strict-auth with mixed sources',
    },
    { ...apps(['--key', 'nobody']), exit: 4, code: 'KEY_NOT_STORED', name: 'unknown stored key' },
    {
      ...apps(['--key', 'loose'], { ASCEND_HOME: join(dir, 'loose-home') }),
      code: 'KEY_FILE_PERMISSIONS',
      name: 'stored key readable by others',
    },
    {
      ...apps([], { ASC_KEY_ID: 'ABCDE12345', ASC_ISSUER_ID: ISSUER, ASC_PRIVATE_KEY_B64: 'bm90IGEga2V5' }),
      code: 'KEY_NOT_PEM',
      name: 'ASC_PRIVATE_KEY_B64 not a PEM',
    },
    {
      ...apps([], {
        APP_STORE_CONNECT_API_KEY_KEY_ID: 'ABCDE12345',
        APP_STORE_CONNECT_API_KEY_ISSUER_ID: ISSUER,
        APP_STORE_CONNECT_API_KEY_KEY: 'plain text',
        APP_STORE_CONNECT_API_KEY_IS_KEY_CONTENT_BASE64: 'true',
      }),
      code: 'KEY_NOT_PEM',
      name: 'fastlane base64 flag on plain text',
    },
    { ...apps(flags('-', 'ABCDE12345')), input: '', code: 'KEY_EMPTY', name: 'empty key on stdin' },
    {
      ...apps(flags(f('good.json').replace('good.json', 'rsa.p8'), good.keyId, good.issuerId)),
      code: 'KEY_WRONG_TYPE',
      name: 'right ids, wrong key type',
    },
    {
      name: 'key unknown to Apple',
      args: ['apps', 'list', ...api, ...flags('@env:PK', 'ZZZZZ99999', good.issuerId)],
      env: { PK: good.privateKeyPem },
      exit: 3,
      code: 'ASC_UNAUTHORIZED',
    },
    {
      name: 'keys add with a bad name',
      args: ['keys', 'add', '--name', 'bad name!', ...flags(f('good.json'))],
      exit: 2,
      code: 'KEY_NAME_INVALID',
    },
    { name: 'keys add without flags', args: ['keys', 'add', '--name', 'ci'], exit: 2, code: 'USAGE' },
    { name: 'keys remove unknown', args: ['keys', 'remove', 'nobody'], exit: 4, code: 'KEY_NOT_STORED' },
    // options
    { name: 'unknown command', args: ['frobnicate'], exit: 2, code: 'USAGE' },
    { name: 'unknown option', args: ['apps', 'list', '--frob'], exit: 2, code: 'USAGE' },
    { name: 'builds list without --app', args: ['builds', 'list'], env: key, exit: 2, code: 'USAGE' },
    {
      name: 'builds list --limit 0',
      args: ['builds', 'list', '--app', 'x', '--limit', '0', ...api],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'builds list --limit abc',
      args: ['builds', 'list', '--app', 'x', '--limit', 'abc', ...api],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'builds list --version 1.x',
      args: ['builds', 'list', '--app', 'x', '--version', '1.x', ...api],
      env: key,
      exit: 2,
      code: 'VERSION_INVALID',
    },
    {
      name: 'next-number without --version',
      args: ['builds', 'next-number', '--app', 'x', ...api],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'next-number --version 1..2',
      args: ['builds', 'next-number', '--app', 'x', '--version', '1..2', ...api],
      env: key,
      exit: 2,
      code: 'VERSION_INVALID',
    },
    {
      name: 'next-number --platform ANDROID',
      args: ['builds', 'next-number', '--app', 'x', '--version', '1.0', '--platform', 'ANDROID'],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'upload --concurrency 0',
      args: ['upload', f('ok.ipa'), '--concurrency', '0', ...api],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'upload --concurrency 100',
      args: ['upload', f('ok.ipa'), '--concurrency', '100', ...api],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'upload --timeout forever',
      args: ['upload', f('ok.ipa'), '--timeout', 'forever', ...api],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'deploy --encryption maybe',
      args: ['deploy', f('ok.ipa'), '--encryption', 'maybe', ...api],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'deploy --release never',
      args: ['deploy', f('ok.ipa'), '--release', 'never', ...api],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'deploy --release scheduled:garbage',
      args: ['deploy', f('ok.ipa'), '--release', 'scheduled:soon', ...api],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'deploy --submit-review alone',
      args: ['deploy', f('ok.ipa'), '--submit-review', ...api],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'deploy two whats-new sources',
      args: ['deploy', f('ok.ipa'), '--whats-new', 'a', '--whats-new-file', f('notes.txt'), ...api],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'deploy --whats-new-file missing',
      args: ['deploy', f('ok.ipa'), '--whats-new-file', f('nope.txt'), ...api],
      env: key,
      exit: 6,
      code: 'FILE_NOT_FOUND',
    },
    {
      name: 'testflight --group alone',
      args: ['testflight', 'groups', '--app', 'com.example.sandbox.one', '--group', 'QA', ...api],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'builds wait --timeout x',
      args: ['builds', 'wait', 'b1', '--timeout', 'x', ...api],
      env: key,
      exit: 2,
      code: 'USAGE',
    },
    {
      name: 'builds wait unknown build',
      args: ['builds', 'wait', 'no-such-build', ...api],
      env: key,
      exit: 4,
      code: 'ASC_NOT_FOUND',
    },
    { name: '--api-url not a URL', args: ['apps', 'list', '--api-url', 'notaurl'], env: key, exit: 2, code: 'USAGE' },
    { name: '--api-url ftp', args: ['apps', 'list', '--api-url', 'ftp://x'], env: key, exit: 2, code: 'USAGE' },
    {
      name: 'ASC_API_URL not a URL',
      args: ['apps', 'list'],
      env: { ...key, ASC_API_URL: '::::' },
      exit: 2,
      code: 'USAGE',
    },
    // IPAs, plists, profiles
    {
      name: 'upload a missing file',
      args: ['upload', f('nope.ipa'), ...api],
      env: key,
      exit: 6,
      code: 'FILE_NOT_FOUND',
    },
    { name: 'upload a non-zip', args: ['upload', f('not-a-zip.ipa'), ...api], env: key, exit: 6, code: 'IPA_NOT_ZIP' },
    {
      name: 'upload a zip without Payload/',
      args: ['upload', f('nopayload.ipa'), ...api],
      env: key,
      exit: 6,
      code: 'IPA_NO_APP',
    },
    {
      name: 'upload a bad build number',
      args: ['upload', f('badbuild.ipa'), ...api],
      env: key,
      exit: 6,
      code: 'PREFLIGHT_FAILED',
    },
    {
      name: 'upload with a development profile',
      args: ['upload', f('dev.ipa'), ...api],
      env: key,
      exit: 6,
      code: 'PREFLIGHT_FAILED',
    },
    {
      name: 'upload with an expired profile',
      args: ['upload', f('expired.ipa'), ...api],
      env: key,
      exit: 6,
      code: 'PREFLIGHT_FAILED',
    },
    {
      name: 'upload without a profile',
      args: ['upload', f('noprofile.ipa'), ...api],
      env: key,
      exit: 6,
      code: 'PREFLIGHT_FAILED',
    },
    {
      name: 'upload a Simulator build',
      args: ['upload', f('simulator.ipa'), ...api],
      env: key,
      exit: 6,
      code: 'PREFLIGHT_FAILED',
    },
    {
      name: 'upload an unsafe path',
      args: ['upload', f('dots.ipa'), ...api],
      env: key,
      exit: 6,
      code: 'IPA_UNSAFE_PATH',
    },
    {
      name: 'upload a deflate bomb',
      args: ['upload', f('bomb.ipa'), ...api],
      env: key,
      exit: 6,
      code: 'IPA_ENTRY_TOO_LARGE',
    },
    {
      name: 'upload for an app with no record',
      args: ['upload', f('unknown-app.ipa'), ...api],
      env: key,
      exit: 4,
      code: 'APP_NOT_FOUND',
    },
    {
      name: 'upload a used build number',
      args: ['upload', f('used.ipa'), ...api],
      env: key,
      exit: 5,
      code: 'BUILD_NUMBER_USED',
    },
    {
      name: 'deploy without an export compliance answer',
      args: ['deploy', f('noenc.ipa'), ...api],
      env: key,
      exit: 6,
      code: 'ENCRYPTION_UNANSWERED',
    },
    {
      name: 'deploy to an unknown group',
      args: ['deploy', f('ok.ipa'), '--group', 'Nobody', ...api],
      env: key,
      exit: 4,
      code: 'GROUP_NOT_FOUND',
    },
    {
      name: 'deploy into a closed version train',
      args: ['deploy', f('closed.ipa'), ...api],
      env: key,
      exit: 5,
      code: 'VERSION_TRAIN_CLOSED',
    },
    {
      name: 'inspect an extension with a foreign bundle ID',
      args: ['ipa', 'inspect', f('badext.ipa')],
      exit: 6,
      code: 'PREFLIGHT_FAILED',
    },
    {
      name: 'inspect a malformed Info.plist',
      args: ['ipa', 'inspect', f('badplist.ipa')],
      exit: 6,
      code: 'PLIST_INVALID',
    },
    {
      name: 'inspect an app without bundle ID',
      args: ['ipa', 'inspect', f('emptyid.ipa')],
      exit: 6,
      code: 'PREFLIGHT_FAILED',
    },
    {
      name: 'simulator with a bad fault spec',
      args: ['simulator', 'start', '--faults', 'meteor=1'],
      exit: 6,
      code: 'SIMULATOR_SEED_INVALID',
    },
    {
      name: 'simulator with a missing seed',
      args: ['simulator', 'start', '--seed', f('no-seed.json')],
      exit: 6,
      code: 'SIMULATOR_SEED_INVALID',
    },
  ];
}

describe('bad-input corpus', () => {
  it('every case exits with its code and names its error, in one line, changing nothing remotely', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(60);
    const before = JSON.stringify(sim.store.snapshot().resources);
    const results: CliResult[] = [];
    for (let i = 0; i < all.length; i += 8) {
      results.push(
        ...(await Promise.all(all.slice(i, i + 8).map((c) => runCli(c.args, { env: c.env, input: c.input })))),
      );
    }
    const failures: string[] = [];
    all.forEach((c, i) => {
      const r = results[i]!;
      const errLines = r.stderr.split('\n').filter((l) => l.startsWith('ascend:'));
      if (
        r.code !== c.exit ||
        !r.stderr.includes(`[${c.code}]`) ||
        errLines.length !== 1 ||
        /\n\s+at /.test(r.stderr)
      ) {
        failures.push(
          `${c.name}: exit ${r.code} (want ${c.exit}), want [${c.code}] — ${r.stderr.trim().slice(0, 300)}`,
        );
      }
    });
    expect(failures).toEqual([]);
    const writes = [...sim.stats.entries()].filter(([k]) => !k.startsWith('GET'));
    expect(writes).toEqual([]);
    expect(JSON.stringify(sim.store.snapshot().resources)).toBe(before);
    const printed = results.map((r) => r.stdout + r.stderr).join('\n');
    for (const line of good.privateKeyPem.split('\n').filter((l) => l && !l.startsWith('-----')))
      expect(printed).not.toContain(line);
    // A BEGIN marker alone may appear (the remedy quotes it); one followed by key material may not.
    expect(printed).not.toMatch(
      /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.|BEGIN (EC )?PRIVATE KEY-----(\s|\\n)*[A-Za-z0-9+/]{16}|[?&]sig=(?!\[REDACTED\])/,
    );
  }, 120_000);
});
