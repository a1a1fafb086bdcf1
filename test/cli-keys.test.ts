import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator, writeKeyFile } from '../simulator/index.js';
import { DEFAULT_SEED } from '../simulator/seed.js';
import { BIN, runCli } from './helpers/cli.js';

let sim: Simulator;
let dir: string;
const f = (name: string) => join(dir, name);

beforeAll(async () => {
  sim = await startSimulator({
    // Builds stay in PROCESSING for the whole test, so `builds wait` waits until it is interrupted.
    processingSeconds: 3600,
    seed: {
      ...DEFAULT_SEED,
      builds: [
        ...(DEFAULT_SEED.builds ?? []),
        { app: 'com.example.sandbox.one', version: '1.1.0', buildNumber: '7', processingState: 'PROCESSING' },
      ],
    },
  });
  dir = mkdtempSync(join(tmpdir(), 'ascend-keys-e2e-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('keys: the forms a key arrives in', () => {
  it("keys add takes fastlane's key JSON (as `simulator start --write-key` writes it) through --private-key", async () => {
    const key = sim.createKey({ role: 'APP_MANAGER' });
    writeKeyFile(f('key.json'), key);
    const home = f('home-json');
    const add = await runCli(['keys', 'add', '--name', 'ci', '--private-key', f('key.json'), '--json'], {
      env: { ASCEND_HOME: home },
    });
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout).key).toMatchObject({ name: 'ci', keyId: key.keyId, issuerId: key.issuerId });
    const apps = await runCli(['apps', 'list', '--key', 'ci', '--api-url', sim.url, '--json'], {
      env: { ASCEND_HOME: home },
    });
    expect(apps.code, apps.stderr).toBe(0);
    expect(JSON.parse(apps.stdout).apps.length).toBeGreaterThan(0);
  });

  it('keys add honours APP_STORE_CONNECT_API_KEY_PATH when no key flags are given', async () => {
    const key = sim.createKey({ role: 'APP_MANAGER' });
    writeKeyFile(f('env-key.json'), key);
    const home = f('home-env');
    const add = await runCli(['keys', 'add', '--name', 'fl', '--json'], {
      env: { ASCEND_HOME: home, APP_STORE_CONNECT_API_KEY_PATH: f('env-key.json') },
    });
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout).key).toMatchObject({ name: 'fl', keyId: key.keyId });
  });

  it('an upper-case Issuer ID is stored in lower case (with a note) and the key then works', async () => {
    const key = sim.createKey({ role: 'APP_MANAGER' });
    writeFileSync(f('upper.p8'), key.privateKeyPem, { mode: 0o600 });
    const home = f('home-upper');
    const add = await runCli(
      [
        'keys',
        'add',
        '--name',
        'up',
        '--key-id',
        key.keyId,
        '--issuer-id',
        key.issuerId!.toUpperCase(),
        '--private-key',
        f('upper.p8'),
        '--json',
      ],
      { env: { ASCEND_HOME: home } },
    );
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout).key.issuerId).toBe(key.issuerId);
    expect(add.stderr).toMatch(/^warning: .*upper-case letters.*lower case/m);
    const apps = await runCli(['apps', 'list', '--key', 'up', '--api-url', sim.url, '--json'], {
      env: { ASCEND_HOME: home },
    });
    expect(apps.code, apps.stderr).toBe(0);
  });

  it('warns (one line) about a literal key on the command line, and still works', async () => {
    const key = sim.createKey({ role: 'APP_MANAGER' });
    const r = await runCli([
      'apps',
      'list',
      '--api-url',
      sim.url,
      '--key-id',
      key.keyId,
      '--issuer-id',
      key.issuerId!,
      '--private-key',
      key.privateKeyPem,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/`ps`.*`-`.*@env:VAR/);
  });

  it('keys list shows the good keys when one stored file is damaged, and names the damaged one', async () => {
    const key = sim.createKey();
    writeKeyFile(f('list-key.json'), key);
    const home = f('home-list');
    const add = await runCli(['keys', 'add', '--name', 'good', '--private-key', f('list-key.json')], {
      env: { ASCEND_HOME: home },
    });
    expect(add.code, add.stderr).toBe(0);
    writeFileSync(join(home, 'keys', 'broken.json'), '{"name": ', { mode: 0o600 });
    const list = await runCli(['keys', 'list', '--json'], { env: { ASCEND_HOME: home } });
    expect(list.code, list.stderr).toBe(0);
    const doc = JSON.parse(list.stdout);
    expect(doc.keys.map((k: { name: string }) => k.name)).toEqual(['good']);
    expect(doc.unreadable).toEqual([expect.objectContaining({ file: join(home, 'keys', 'broken.json') })]);
    expect(list.stderr).toContain(
      `warning: ${join(home, 'keys', 'broken.json')} is not a usable key [KEY_JSON_INVALID]`,
    );
  });

  it('a key file others can read is used, with a one-line warning naming the chmod', async () => {
    const key = sim.createKey();
    writeFileSync(f('loose.p8'), key.privateKeyPem);
    chmodSync(f('loose.p8'), 0o644);
    const r = await runCli(
      ['apps', 'list', '--api-url', sim.url, '--key-id', key.keyId, '--issuer-id', key.issuerId!],
      { env: { API_PRIVATE_KEYS_DIR: dir }, cwd: dir },
    );
    // Found through altool's folder only when named AuthKey_<KEYID>.p8; here it is passed by path instead.
    expect(r.code).toBe(6);
    const r2 = await runCli([
      'apps',
      'list',
      '--api-url',
      sim.url,
      '--key-id',
      key.keyId,
      '--issuer-id',
      key.issuerId!,
      '--private-key',
      f('loose.p8'),
    ]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toContain(`warning: ${f('loose.p8')} can be read by other users (mode 644)`);
    expect(r2.stderr).toContain(`chmod 600 ${f('loose.p8')}`);
  });
});

describe('interruption', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} during \`builds wait\` exits 130 with INTERRUPTED and says re-running continues`, async () => {
      const key = sim.createKey();
      writeKeyFile(f(`wait-${signal}.json`), key);
      const env = { APP_STORE_CONNECT_API_KEY_PATH: f(`wait-${signal}.json`) };
      const list = await runCli(['builds', 'list', '--app', 'com.example.sandbox.one', '--api-url', sim.url], {
        env,
      });
      const build = JSON.parse(list.stdout).builds.find((b: { version: string }) => b.version === '7');
      expect(build.processingState).toBe('PROCESSING');
      const home = mkdtempSync(join(tmpdir(), 'ascend-wait-'));
      const child = spawn(process.execPath, [BIN, 'builds', 'wait', build.id, '--api-url', sim.url], {
        env: { PATH: process.env.PATH ?? '', HOME: home, ASCEND_HOME: join(home, 'a'), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      let stdout = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      // Signal once the command has started waiting: it has printed the build's state.
      await new Promise<void>((resolve) => {
        child.stderr.on('data', (d) => {
          stderr += d;
          if (stderr.includes(`build ${build.id}: PROCESSING`)) resolve();
        });
      });
      child.kill(signal);
      const code = await closed;
      rmSync(home, { recursive: true, force: true });
      expect(code).toBe(130);
      const errLines = stderr.split('\n').filter((l) => l.startsWith('ascend:'));
      expect(errLines).toHaveLength(1);
      expect(errLines[0]).toMatch(/interrupted by .*\[INTERRUPTED\] — .*saved.*run the same command again to continue/);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(JSON.parse(stdout).error).toMatchObject({ code: 'INTERRUPTED', exitCode: 130 });
    });
  }
});

describe('help', () => {
  it('`keys add --help` shows the key options and --api-url; the top-level help names ASC_API_URL', async () => {
    const add = await runCli(['keys', 'add', '--help']);
    expect(add.code).toBe(0);
    for (const opt of ['--name', '--key-id', '--issuer-id', '--private-key', '--api-url', 'ASC_API_URL'])
      expect(add.stdout).toContain(opt);
    const wait = await runCli(['builds', 'wait', '--help']);
    expect(wait.stdout).toContain('--api-url');
    const top = await runCli(['--help']);
    expect(top.stdout).toContain('ASC_API_URL');
    expect(top.stdout).toContain('APP_STORE_CONNECT_API_KEY_PATH');
  });

  it('README documents ASC_API_URL', () => {
    expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain('ASC_API_URL');
  });
});

describe('keys add refuses to change a shared folder', () => {
  it.runIf(process.platform !== 'win32')('an existing ASCEND_HOME others can read is left as it is', async () => {
    const home = f('shared');
    mkdirSync(home);
    chmodSync(home, 0o755);
    const key = sim.createKey();
    writeKeyFile(f('shared-key.json'), key);
    const r = await runCli(['keys', 'add', '--name', 'x', '--private-key', f('shared-key.json')], {
      env: { ASCEND_HOME: home },
    });
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/\[HOME_PERMISSIONS\] — Run `chmod 700 .*shared`/);
    const { statSync } = await import('node:fs');
    expect(statSync(home).mode & 0o777).toBe(0o755);
  });
});
