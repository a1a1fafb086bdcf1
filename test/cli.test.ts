import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { BIN, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

let sim: Simulator;
let dir: string;
let keyFile: string;
let keyPem: string;

beforeAll(async () => {
  sim = await startSimulator();
  dir = tempDir('ascend-e2e-');
  const key = sim.createKey({ role: 'APP_MANAGER' });
  keyPem = key.privateKeyPem;
  keyFile = join(dir, 'k.json');
  writeFileSync(keyFile, JSON.stringify({ key_id: key.keyId, issuer_id: key.issuerId, key: key.privateKeyPem }), {
    mode: 0o600,
  });
});
afterAll(async () => {
  await sim.close();
});

/** Every way a secret could leak into output: key body lines, any JWT, a signed URL query. */
function assertNoSecrets(text: string, pems: string[]): void {
  for (const pem of pems) {
    for (const line of pem.split('\n').filter((l) => l && !l.startsWith('-----'))) expect(text).not.toContain(line);
  }
  expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\./);
  // A BEGIN marker alone may appear (a remedy quotes it); one followed by key material may not.
  expect(text).not.toMatch(/BEGIN (EC )?PRIVATE KEY-----(\s|\\n)*[A-Za-z0-9+/]{16}/);
  expect(text).not.toMatch(/[?&](sig|X-Amz-Signature|Signature)=(?!\[REDACTED\])/);
  expect(text).not.toMatch(/Bearer\s+[A-Za-z0-9]/);
}

describe('ascend CLI against the simulator', () => {
  it('`ascend simulator start --port 0 --write-key k.json` prints its URL and answers without a token with Apple’s 401', async () => {
    const d = tempDir('ascend-simproc-');
    const child = spawn(process.execPath, [BIN, 'simulator', 'start', '--port', '0', '--write-key', 'k.json'], {
      cwd: d,
      env: { ...process.env, HOME: d },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c) => {
          out += c;
          const line = out.split('\n')[0];
          if (out.includes('\n') && line) resolve(line.trim());
        });
        child.on('exit', (code) => reject(new Error(`simulator exited ${code}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${url}/v1/apps`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('NOT_AUTHORIZED');
      const written = JSON.parse(readFileSync(join(d, 'k.json'), 'utf8'));
      expect(written.key_id).toMatch(/^[A-Z0-9]{10}$/);
      const r = await runCli(['apps', 'list', '--api-url', url, '--json'], {
        env: { APP_STORE_CONNECT_API_KEY_PATH: join(d, 'k.json') },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).apps.map((a: { bundleId: string }) => a.bundleId)).toEqual([
        'com.example.sandbox.one',
        'com.example.sandbox.two',
      ]);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('apps list, builds list and next-number print one JSON document with Apple’s names and ids', async () => {
    const env = { APP_STORE_CONNECT_API_KEY_PATH: keyFile };
    const builds = await runCli(
      ['builds', 'list', '--app', 'com.example.sandbox.one', '--api-url', sim.url, '--json'],
      { env },
    );
    expect(builds.code, builds.stderr).toBe(0);
    const doc = JSON.parse(builds.stdout);
    expect(doc.builds.map((b: { version: string }) => b.version)).toEqual(['2', '1']);
    expect(doc.builds[0]).toMatchObject({ processingState: 'VALID', preReleaseVersion: '1.0.0', platform: 'IOS' });
    expect(doc.builds[0].id).toMatch(/[0-9a-f-]{36}/);
    const next = await runCli(
      ['builds', 'next-number', '--app', '1000000001', '--version', '1.0.0', '--api-url', sim.url, '--json'],
      { env },
    );
    expect(JSON.parse(next.stdout)).toMatchObject({ highest: '2', next: '3' });
    const missing = await runCli(['builds', 'list', '--app', 'com.example.missing', '--api-url', sim.url], { env });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(
      /no app record with bundle ID com\.example\.missing.*\[APP_NOT_FOUND\].*Apps → "\+"/,
    );
  });

  it('`keys check` reports the role and the apps the key can see', async () => {
    const r = await runCli(['keys', 'check', '--api-url', sim.url, '--json'], {
      env: { APP_STORE_CONNECT_API_KEY_PATH: keyFile },
    });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      valid: true,
      role: 'App Manager',
      kind: 'team',
      canManageSigning: true,
      canManageUsers: false,
    });
    expect(doc.apps).toHaveLength(2);
    const admin = sim.createKey({ role: 'ADMIN' });
    const r2 = await runCli(
      [
        'keys',
        'check',
        '--api-url',
        sim.url,
        '--json',
        '--key-id',
        admin.keyId,
        '--issuer-id',
        admin.issuerId!,
        '--private-key',
        '-',
      ],
      {
        input: admin.privateKeyPem,
      },
    );
    expect(JSON.parse(r2.stdout).role).toBe('Admin');
  });

  it('a wrong or revoked key exits 3 with Apple’s 401 explained in one line', async () => {
    const k = sim.createKey();
    const other = sim.createKey();
    const wrong = await runCli(
      [
        'apps',
        'list',
        '--api-url',
        sim.url,
        '--key-id',
        k.keyId,
        '--issuer-id',
        k.issuerId!,
        '--private-key',
        '@env:PK',
      ],
      {
        env: { PK: other.privateKeyPem },
      },
    );
    expect(wrong.code).toBe(3);
    const lines = wrong.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^ascend: Apple answered 401 to GET \/v1\/apps — NOT_AUTHORIZED: .*\[ASC_UNAUTHORIZED\] — Apple refused the token/,
    );
    sim.revokeKey(k.keyId);
    const revoked = await runCli(
      [
        'apps',
        'list',
        '--api-url',
        sim.url,
        '--key-id',
        k.keyId,
        '--issuer-id',
        k.issuerId!,
        '--private-key',
        '@env:PK',
      ],
      {
        env: { PK: k.privateKeyPem },
      },
    );
    expect(revoked.code).toBe(3);
    expect(revoked.stderr).toMatch(/\[ASC_UNAUTHORIZED\]/);
  });

  it('a malformed key exits 6 with its code, and bad usage exits 2, never with a stack trace', async () => {
    const bad = await runCli(
      [
        'apps',
        'list',
        '--key-id',
        'ABCDE12345',
        '--issuer-id',
        '69a6de70-03db-47e3-e053-5b8c7c11a4d1',
        '--private-key',
        '@env:PK',
      ],
      {
        env: { PK: '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----' },
      },
    );
    expect(bad.code).toBe(6);
    expect(bad.stderr).toMatch(/\[KEY_IS_PUBLIC\]/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const usage = await runCli(['builds', 'list']);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim().split('\n')).toHaveLength(1);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
  });

  it('keys add / list / remove through the CLI, with the key read from stdin', async () => {
    const k = sim.createKey();
    const home = tempDir('ascend-keys-');
    const env = { ASCEND_HOME: home };
    const add = await runCli(
      ['keys', 'add', '--name', 'ci', '--key-id', k.keyId, '--issuer-id', k.issuerId!, '--private-key', '-', '--json'],
      { env, input: k.privateKeyPem },
    );
    expect(add.code, add.stderr).toBe(0);
    const list = await runCli(['keys', 'list', '--json'], { env });
    expect(JSON.parse(list.stdout).keys).toEqual([
      expect.objectContaining({ name: 'ci', keyId: k.keyId, isDefault: true }),
    ]);
    const apps = await runCli(['apps', 'list', '--api-url', sim.url, '--json'], { env });
    expect(apps.code, apps.stderr).toBe(0);
    assertNoSecrets(add.stdout + add.stderr + list.stdout + apps.stdout + apps.stderr, [k.privateKeyPem]);
    const rm = await runCli(['keys', 'remove', 'ci'], { env });
    expect(rm.code).toBe(0);
    const gone = await runCli(['keys', 'remove', 'ci'], { env });
    expect(gone.code).toBe(4);
  });

  it('prints no secret anywhere, --verbose included, on success and on failure', async () => {
    const k = sim.createKey();
    const env = {
      ASC_KEY_ID: k.keyId,
      ASC_ISSUER_ID: k.issuerId!,
      ASC_PRIVATE_KEY: k.privateKeyPem.replace(/\n/g, '\\n'),
    };
    const runs = await Promise.all([
      runCli(['apps', 'list', '--api-url', sim.url, '--verbose'], { env }),
      runCli(['keys', 'check', '--api-url', sim.url, '--verbose', '--json'], { env }),
      runCli(['builds', 'list', '--app', 'nope.nope', '--api-url', sim.url, '--verbose'], { env }),
      runCli(['apps', 'list', '--api-url', sim.url, '--verbose'], {
        env: { ...env, ASC_ISSUER_ID: '00000000-0000-0000-0000-000000000000' },
      }),
    ]);
    const all = runs.map((r) => r.stdout + r.stderr).join('\n');
    expect(all).toContain('→ GET'); // verbose really logged the requests
    expect(runs.map((r) => r.code)).toEqual([0, 0, 4, 3]);
    assertNoSecrets(all, [k.privateKeyPem, keyPem]);
  });
});

describe('builds wait and testflight groups', () => {
  it('`builds wait` returns once a build is VALID; `testflight groups` lists, adds and removes, idempotently', async () => {
    const env = { APP_STORE_CONNECT_API_KEY_PATH: keyFile };
    const builds = JSON.parse(
      (await runCli(['builds', 'list', '--app', 'com.example.sandbox.one', '--api-url', sim.url, '--json'], { env }))
        .stdout,
    ).builds;
    const id = builds[0].id as string;
    const wait = await runCli(['builds', 'wait', id, '--api-url', sim.url, '--json'], { env });
    expect(wait.code, wait.stderr).toBe(0);
    expect(JSON.parse(wait.stdout).build).toMatchObject({ id, processingState: 'VALID' });
    const list = await runCli(
      ['testflight', 'groups', '--app', 'com.example.sandbox.one', '--api-url', sim.url, '--json'],
      { env },
    );
    expect(JSON.parse(list.stdout).betaGroups.map((g: { name: string }) => g.name)).toEqual([
      'Internal Testers',
      'External Testers',
    ]);
    const add = [
      'testflight',
      'groups',
      '--app',
      'com.example.sandbox.one',
      '--add-build',
      id,
      '--group',
      'Internal Testers',
      '--api-url',
      sim.url,
      '--json',
    ];
    const a1 = JSON.parse((await runCli(add, { env })).stdout);
    expect(a1).toMatchObject({ changed: true, betaGroups: [{ name: 'Internal Testers' }] });
    const a2 = JSON.parse((await runCli(add, { env })).stdout);
    expect(a2.changed).toBe(false);
    const remove = [
      'testflight',
      'groups',
      '--app',
      'com.example.sandbox.one',
      '--remove-build',
      id,
      '--group',
      'Internal Testers',
      '--api-url',
      sim.url,
      '--json',
    ];
    const r1 = JSON.parse((await runCli(remove, { env })).stdout);
    expect(r1).toMatchObject({ changed: true, betaGroups: [] });
  });
});
