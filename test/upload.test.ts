import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, type SimulatorOptions, startSimulator } from '../simulator/index.js';
import { FakeClock, realSleep, systemClock } from '../src/core/clock.js';
import { MemoryStateStore } from '../src/core/state.js';
import { uploadBuild } from '../src/release/upload-build.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../src/sample/builder.js';
import { httpTransport } from '../src/upload/engine.js';
import { BIN, runCli } from './helpers/cli.js';
import { clientFor } from './helpers/deploy.js';

const MiB = 1024 * 1024;
let sims: Simulator[] = [];
let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  sims = [];
  dirs = [];
});

async function setup(opts: SimulatorOptions = {}) {
  const sim = await startSimulator({ processingSeconds: 0.3, partSizeBytes: MiB, ...opts });
  sims.push(sim);
  const dir = mkdtempSync(join(tmpdir(), 'ascend-up-'));
  dirs.push(dir);
  const key = sim.createKey({ role: 'APP_MANAGER' });
  const keyFile = join(dir, 'k.json');
  writeFileSync(keyFile, JSON.stringify({ key_id: key.keyId, issuer_id: key.issuerId, key: key.privateKeyPem }), {
    mode: 0o600,
  });
  const env = { APP_STORE_CONNECT_API_KEY_PATH: keyFile, ASCEND_HOME: join(dir, 'home') };
  return { sim, dir, key, env };
}

const uploads = (sim: Simulator) => sim.store.list('buildUploads');
const md5 = (p: string) => createHash('md5').update(readFileSync(p)).digest('hex');

describe('ascend upload against the simulator', () => {
  it('IPA → parts → commit → COMPLETE → a build in `builds list`; the committed MD5 is the file’s', async () => {
    const { sim, dir, env } = await setup();
    const ipa = join(dir, 'app.ipa');
    await buildIpa(ipa, { version: '1.1.0', build: '7', payloadBytes: 5 * MiB + 123 });
    const r = await runCli(['upload', ipa, '--api-url', sim.url, '--json', '--concurrency', '3'], { env });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.buildUpload.state).toBe('COMPLETE');
    expect(doc.build.id).toBeTruthy();
    expect(doc.file.md5).toBe(md5(ipa));
    const file = sim.store.get('buildUploadFiles', doc.file.id)!;
    expect((file.attributes.sourceFileChecksums as { file: { hash: string } }).file.hash).toBe(md5(ipa));
    expect((file.attributes.uploadOperations as unknown[]).length).toBe(6);
    expect(sim.stats.get('POST /v1/buildUploads')).toBe(1);
    const list = await runCli(
      ['builds', 'list', '--app', 'com.example.sandbox.one', '--version', '1.1.0', '--api-url', sim.url, '--json'],
      { env },
    );
    expect(JSON.parse(list.stdout).builds.map((b: { id: string; version: string }) => [b.id, b.version])).toEqual([
      [doc.build.id, '7'],
    ]);
    // progress events were reported on stderr as JSON lines
    expect(r.stderr).toMatch(/"event":"progress","sent":\d+/);
  });

  it('a 40-part upload at 16 at a time prints no MaxListenersExceededWarning into the JSON-lines stream', async () => {
    const { sim, dir, env } = await setup({ partSizeBytes: 128 * 1024 });
    const ipa = join(dir, 'many.ipa');
    await buildIpa(ipa, { version: '1.1.1', build: '40', payloadBytes: 5 * MiB });
    const r = await runCli(['upload', ipa, '--api-url', sim.url, '--json', '--concurrency', '16', '--no-wait'], {
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    const file = sim.store.get('buildUploadFiles', JSON.parse(r.stdout).file.id)!;
    expect((file.attributes.uploadOperations as unknown[]).length).toBeGreaterThanOrEqual(40);
    expect(r.stderr).not.toMatch(/MaxListenersExceededWarning|memory leak/);
    // Every stderr line is one JSON event.
    for (const line of r.stderr.trim().split('\n')) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it('stops before creating anything: used build number (exit 5), missing app (exit 4), broken IPA (exit 6)', async () => {
    const { sim, dir, env } = await setup();
    const used = join(dir, 'used.ipa');
    await buildIpa(used, { version: '1.0.0', build: '2' });
    const r1 = await runCli(['upload', used, '--api-url', sim.url], { env });
    expect(r1.code).toBe(5);
    expect(r1.stderr).toMatch(/build 2 of version 1\.0\.0 already exists.*\[BUILD_NUMBER_USED\].*next-number/);
    const missing = join(dir, 'missing.ipa');
    await buildIpa(missing, { bundleId: 'com.example.nowhere' });
    const r2 = await runCli(['upload', missing, '--api-url', sim.url], { env });
    expect(r2.code).toBe(4);
    expect(r2.stderr).toMatch(/\[APP_NOT_FOUND\].*Apps → "\+"/);
    const broken = join(dir, 'broken.ipa');
    await buildIpa(broken, { version: '1.0', build: 'seven' });
    const r3 = await runCli(['upload', broken, '--api-url', sim.url], { env });
    expect(r3.code).toBe(6);
    expect(r3.stderr).toMatch(/BUILD_VERSION_INVALID/);
    expect(sim.stats.get('POST /v1/buildUploads')).toBeUndefined();
    expect(uploads(sim)).toHaveLength(0);
  });

  it('resumes after the process is killed half-way: one completed upload, no orphan, parts not all sent twice', async () => {
    const { sim, dir, env } = await setup({ connectionBandwidthMBps: 2, processingSeconds: 0.2 });
    const ipa = join(dir, 'big.ipa');
    await buildIpa(ipa, { version: '1.2.0', build: '3', payloadBytes: 12 * MiB });
    const parts = 13;
    // First run: really killed (SIGKILL) once a third of the bytes are acknowledged.
    const child = spawn(process.execPath, [BIN, 'upload', ipa, '--api-url', sim.url, '--json', '--concurrency', '2'], {
      env: { ...process.env, ASCEND_EXTRA_TRUSTED_ROOTS: SAMPLE_ROOT_SHA256, ...env },
    });
    // Resolves when the process has exited (not merely been signalled), so its state is whatever it last saved.
    await new Promise<void>((resolve, reject) => {
      let err = '';
      let killed = false;
      child.stderr.on('data', (d) => {
        err += d;
        const m = [...err.matchAll(/"sent":(\d+),"total":(\d+)/g)].at(-1);
        if (!killed && m && Number(m[1]) > Number(m[2]) / 3) {
          killed = true;
          child.kill('SIGKILL');
        }
      });
      child.on('exit', (code) =>
        code === null ? resolve() : reject(new Error(`finished before it could be killed (${code}): ${err}`)),
      );
    });
    expect(sim.stats.get('PUT /__upload') ?? 0).toBeGreaterThan(0);
    expect(uploads(sim)).toHaveLength(1);
    const r = await runCli(['upload', ipa, '--api-url', sim.url, '--json', '--concurrency', '4'], { env });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.buildUpload).toMatchObject({ state: 'COMPLETE', resumed: true });
    expect(doc.file.md5).toBe(md5(ipa));
    const all = uploads(sim);
    expect(all.map((u) => (u.attributes.state as { state: string }).state)).toEqual(['COMPLETE']);
    expect(sim.store.list('buildUploadFiles')).toHaveLength(1);
    expect(sim.stats.get('POST /v1/buildUploads')).toBe(1);
    // The second run says how many parts it still had to send: fewer than all, since a third was acknowledged.
    const toSend = /"event":"upload: parts \((\d+) of (\d+) parts to send/.exec(r.stderr);
    expect(toSend, r.stderr).not.toBeNull();
    expect(Number(toSend![2])).toBe(parts);
    expect(Number(toSend![1])).toBeGreaterThan(0);
    expect(Number(toSend![1])).toBeLessThan(parts);
  }, 60_000);

  it('with faults on every route (5xx, resets, 429, lost answers) the upload still completes, once', async () => {
    const { sim, dir, env } = await setup({ faults: '5xx=0.05,reset=0.05,429=0.02,drop-response=0.02', faultSeed: 7 });
    for (let i = 0; i < 3; i++) {
      const ipa = join(dir, `f${i}.ipa`);
      await buildIpa(ipa, { version: '2.0.0', build: String(10 + i), payloadBytes: 4 * MiB });
      const r = await runCli(['upload', ipa, '--api-url', sim.url, '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).file.md5).toBe(md5(ipa));
    }
    const states = uploads(sim).map(
      (u) => `${u.attributes.cfBundleVersion}:${(u.attributes.state as { state: string }).state}`,
    );
    expect(states.sort()).toEqual(['10:COMPLETE', '11:COMPLETE', '12:COMPLETE']);
    const builds = sim.store.list('builds').filter((b) => ['10', '11', '12'].includes(String(b.attributes.version)));
    expect(builds).toHaveLength(3);
  }, 90_000);

  it('an interrupted upload whose reservation expired is deleted and started afresh: one live upload, never two', async () => {
    const { sim, dir, key } = await setup({ uploadExpirySeconds: 30 });
    const ipa = join(dir, 'exp.ipa');
    await buildIpa(ipa, { version: '1.3.0', build: '4', payloadBytes: 3 * MiB });
    const { client } = clientFor(sim, key);
    const state = new MemoryStateStore();
    const input = {
      file: ipa,
      appId: '1000000001',
      platform: 'IOS' as const,
      version: '1.3.0',
      buildNumber: '4',
      concurrency: 2,
      wait: true,
      deadline: systemClock.now() + 30_000,
    };
    const deps = { client, state, clock: systemClock, sleep: realSleep, random: Math.random };
    const real = await httpTransport(2);
    // First run: the third part is refused for good, so the run stops with a reservation saved.
    let sent = 0;
    const flaky = Object.assign(
      async (...a: Parameters<typeof real>) => (++sent === 3 ? { status: 400, detail: 'test refusal' } : real(...a)),
      { close: real.close },
    );
    await expect(uploadBuild(input, { ...deps, transport: flaky })).rejects.toMatchObject({
      code: 'UPLOAD_PART_FAILED',
    });
    const first = uploads(sim)[0]!.id;
    // 30 s of validity is within the client's one-minute safety margin: the saved reservation counts as expired.
    const r = await uploadBuild(input, { ...deps, transport: real });
    expect(r).toMatchObject({ state: 'COMPLETE', resumed: false });
    expect(uploads(sim).map((u) => u.id)).toEqual([r.uploadId]);
    expect(r.uploadId).not.toBe(first);
    await real.close();
  });

  it("surfaces Apple's processing failure (90189) within one poll of Apple recording it", async () => {
    // One fake clock for the simulator's processing and the client's waits: time moves only when the client
    // sleeps, so "how long after Apple failed it did we notice" is exact.
    const clock = new FakeClock(systemClock.now());
    const { sim, dir, key } = await setup({ clock, processingSeconds: 40 });
    const ipa = join(dir, 'dup.ipa');
    await buildIpa(ipa, { version: '1.0.0', build: '1' }); // build 1 of 1.0.0 is seeded: preflight skipped on purpose
    const { client } = clientFor(sim, key);
    const transport = await httpTransport(2);
    let committedAt = 0;
    await expect(
      uploadBuild(
        {
          file: ipa,
          appId: '1000000001',
          platform: 'IOS',
          version: '1.0.0',
          buildNumber: '1',
          concurrency: 2,
          wait: true,
          deadline: clock.now() + 3_600_000,
        },
        {
          client,
          state: new MemoryStateStore(),
          clock,
          sleep: clock.sleep,
          random: Math.random,
          transport,
          onEvent: (e) => {
            if (e.type === 'step' && e.step === 'processing') committedAt = clock.now();
          },
        },
      ),
    ).rejects.toMatchObject({
      code: 'BUILD_NUMBER_USED',
      exitCode: 5,
      message: expect.stringContaining('90189: Redundant Binary Upload'),
    });
    await transport.close();
    const failedAt = committedAt + 40_000;
    // Noticed after Apple failed it, and before the next poll after that would have been due (polls wait ≤ 15 s).
    expect(clock.now()).toBeGreaterThanOrEqual(failedAt);
    expect(clock.now() - failedAt).toBeLessThan(15_000);
    expect(sim.store.list('buildUploads').map((u) => (u.attributes.state as { state: string }).state)).toEqual([
      'FAILED',
    ]);
  });
});
