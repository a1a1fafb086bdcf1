import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, type SimulatorOptions, startSimulator } from '../simulator/index.js';
import { DEFAULT_SEED } from '../simulator/seed.js';
import { main } from '../src/cli/main.js';
import { buildIpa, type IpaSpec, SAMPLE_ROOT_SHA256 } from '../src/sample/builder.js';
import { runCli } from './helpers/cli.js';

let sims: Simulator[] = [];
let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

async function setup(opts: SimulatorOptions = {}) {
  const sim = await startSimulator({ processingSeconds: 0.2, partSizeBytes: 256 * 1024, ...opts });
  sims.push(sim);
  const dir = mkdtempSync(join(tmpdir(), 'ascend-deploy-'));
  dirs.push(dir);
  const key = sim.createKey({ role: 'APP_MANAGER' });
  writeFileSync(
    join(dir, 'k.json'),
    JSON.stringify({ key_id: key.keyId, issuer_id: key.issuerId, key: key.privateKeyPem }),
    { mode: 0o600 },
  );
  const env = {
    APP_STORE_CONNECT_API_KEY_PATH: join(dir, 'k.json'),
    ASCEND_HOME: join(dir, 'home'),
    ASCEND_EXTRA_TRUSTED_ROOTS: SAMPLE_ROOT_SHA256,
  };
  const ipa = async (name: string, spec: IpaSpec) => {
    const p = join(dir, name);
    await buildIpa(p, { payloadBytes: 700 * 1024, ...spec });
    return p;
  };
  const deployCli = (file: string, ...args: string[]) =>
    runCli(['deploy', file, '--api-url', sim.url, '--json', ...args], { env });
  return { sim, dir, env, ipa, deployCli };
}

/** Output of an in-process run, with a terminal on both streams. */
function captureIo() {
  const text = { stdout: '', stderr: '' };
  const io = {
    stdout: (t: string) => {
      text.stdout += t;
    },
    stderr: (t: string) => {
      text.stderr += t;
    },
    readStdin: async () => '',
  };
  return { io, text };
}

const count = (sim: Simulator, type: string) => sim.store.list(type).length;
const snapshot = (sim: Simulator) => JSON.stringify(sim.store.snapshot().resources);
const writes = (sim: Simulator) =>
  [...sim.stats.entries()].filter(([k]) => !k.startsWith('GET')).reduce((n, [, v]) => n + v, 0);

describe('ascend deploy against the simulator', () => {
  it('internal TestFlight: uploads, waits, answers compliance, sets "What to Test", adds the group — no beta review', async () => {
    const { sim, ipa, deployCli } = await setup();
    const file = await ipa('a.ipa', { version: '1.1.0', build: '5', encryption: null });
    const r = await deployCli(
      file,
      '--group',
      'Internal Testers',
      '--whats-new',
      'Try the new onboarding',
      '--encryption',
      'exempt',
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual([
      'upload:done',
      'process:done',
      'compliance:done',
      'whatsNew:done',
      'groups:done',
      'betaReview:skipped',
      'appStore:skipped',
      'submitReview:skipped',
    ]);
    const build = sim.store.get('builds', doc.build.id)!;
    expect(build.attributes).toMatchObject({ processingState: 'VALID', usesNonExemptEncryption: false });
    const group = sim.store.list('betaGroups').find((g) => g.attributes.name === 'Internal Testers')!;
    expect(build.rels.betaGroups).toEqual([group.id]);
    expect(sim.store.list('betaBuildLocalizations').map((l) => l.attributes)).toEqual([
      { locale: 'en-US', whatsNew: 'Try the new onboarding' },
    ]);
    expect(count(sim, 'betaAppReviewSubmissions')).toBe(0);
  });

  it('external group: beta review is requested once; a re-run after success changes nothing and says so', async () => {
    const { sim, ipa, deployCli } = await setup();
    const file = await ipa('b.ipa', { version: '1.2.0', build: '1' });
    const args = ['--group', 'External Testers', '--whats-new', 'Please test payments'];
    const first = await deployCli(file, ...args);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).betaAppReviewSubmission.betaReviewState).toBe('WAITING_FOR_REVIEW');
    const before = {
      uploads: count(sim, 'buildUploads'),
      locs: count(sim, 'betaBuildLocalizations'),
      reviews: count(sim, 'betaAppReviewSubmissions'),
    };
    const writesBefore = writes(sim);
    const again = await deployCli(file, ...args);
    expect(again.code, again.stderr).toBe(0);
    const doc = JSON.parse(again.stdout);
    expect(doc.changed).toBe(false);
    expect(doc.steps.every((s: { status: string }) => s.status === 'already' || s.status === 'skipped')).toBe(true);
    expect({
      uploads: count(sim, 'buildUploads'),
      locs: count(sim, 'betaBuildLocalizations'),
      reviews: count(sim, 'betaAppReviewSubmissions'),
    }).toEqual(before);
    expect(writes(sim)).toBe(writesBefore);
  });

  it('App Store: version created, build attached, manual release with phased rollout, submitted once for App Review', async () => {
    const { sim, ipa, deployCli } = await setup();
    const file = await ipa('c.ipa', { version: '2.0.0', build: '1' });
    const args = ['--group', 'Internal Testers', '--app-store', '--submit-review', '--release', 'manual', '--phased'];
    const r = await deployCli(file, ...args);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.appStoreVersion).toMatchObject({ versionString: '2.0.0', releaseType: 'MANUAL' });
    expect(doc.phasedRelease.phasedReleaseState).toBe('INACTIVE');
    expect(doc.reviewSubmission.state).toBe('WAITING_FOR_REVIEW');
    const version = sim.store.get('appStoreVersions', doc.appStoreVersion.id)!;
    expect(version.rels.build).toBe(doc.build.id);
    expect(count(sim, 'reviewSubmissions')).toBe(1);
    expect(count(sim, 'reviewSubmissionItems')).toBe(1);
    const again = await deployCli(file, ...args);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).changed).toBe(false);
    expect(count(sim, 'reviewSubmissions')).toBe(1);
    expect(count(sim, 'reviewSubmissionItems')).toBe(1);
  });

  it('--dry-run checks everything and prints the plan without changing anything', async () => {
    const { sim, ipa, deployCli } = await setup();
    const file = await ipa('d.ipa', { version: '3.0.0', build: '1' });
    const before = snapshot(sim);
    const r = await deployCli(
      file,
      '--group',
      'External Testers',
      '--whats-new',
      'x',
      '--app-store',
      '--submit-review',
      '--dry-run',
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.dryRun).toBe(true);
    expect(doc.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual([
      'upload:planned',
      'process:planned',
      'compliance:planned',
      'whatsNew:planned',
      'groups:planned',
      'betaReview:planned',
      'appStore:planned',
      'submitReview:planned',
    ]);
    expect(writes(sim)).toBe(0);
    expect(snapshot(sim)).toBe(before);
  });

  it('stops before uploading: used build number and closed train (exit 5), unknown group (exit 4), no compliance answer (exit 6)', async () => {
    const seed = {
      ...DEFAULT_SEED,
      appStoreVersions: [
        { app: 'com.example.sandbox.one', versionString: '1.5.0', appVersionState: 'READY_FOR_DISTRIBUTION' },
      ],
    };
    const { sim, ipa, deployCli } = await setup({ seed });
    const used = await deployCli(await ipa('u.ipa', { version: '1.0.0', build: '2' }));
    expect(used.code).toBe(5);
    expect(used.stderr).toMatch(/\[BUILD_NUMBER_USED\].*next-number/);
    const closed = await deployCli(await ipa('v.ipa', { version: '1.5.0', build: '9' }));
    expect(closed.code).toBe(5);
    expect(closed.stderr).toMatch(/version 1\.5\.0 is closed.*\[VERSION_TRAIN_CLOSED\].*MARKETING_VERSION/);
    const group = await deployCli(await ipa('g.ipa', { version: '1.6.0', build: '1' }), '--group', 'Beta Testers');
    expect(group.code).toBe(4);
    expect(group.stderr).toMatch(/no beta group named "Beta Testers".*"Internal Testers", "External Testers"/);
    const noAnswer = await deployCli(await ipa('e.ipa', { version: '1.6.0', build: '1', encryption: null }));
    expect(noAnswer.code).toBe(6);
    expect(noAnswer.stderr).toMatch(/\[ENCRYPTION_UNANSWERED\].*--encryption exempt\|non-exempt/);
    expect(count(sim, 'buildUploads')).toBe(0);
  });

  it('a Developer key is stopped before the upload when the deploy needs more than uploading (exit 3)', async () => {
    const { sim, dir, ipa } = await setup();
    const dev = sim.createKey({ role: 'DEVELOPER' });
    writeFileSync(
      join(dir, 'dev.json'),
      JSON.stringify({ key_id: dev.keyId, issuer_id: dev.issuerId, key: dev.privateKeyPem }),
      { mode: 0o600 },
    );
    const file = await ipa('dev.ipa', { version: '1.7.0', build: '1' });
    const r = await runCli(['deploy', file, '--api-url', sim.url, '--group', 'Internal Testers'], {
      env: { APP_STORE_CONNECT_API_KEY_PATH: join(dir, 'dev.json'), ASCEND_HOME: join(dir, 'dev-home') },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /looks like a Developer key.*add builds to beta groups.*\[ASC_FORBIDDEN_ROLE\].*App Manager/,
    );
    expect(count(sim, 'buildUploads')).toBe(0);
  });

  it('a review in progress is reused on re-run; a second version is stopped before its upload, naming the version in review (exit 5)', async () => {
    const { sim, ipa, deployCli } = await setup({ reviewSeconds: 600 });
    const first = await ipa('r1.ipa', { version: '4.0.0', build: '1' });
    const r1 = await deployCli(first, '--app-store', '--submit-review');
    expect(r1.code, r1.stderr).toBe(0);
    const again = await deployCli(first, '--app-store', '--submit-review');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).steps.find((s: { step: string }) => s.step === 'submitReview')).toMatchObject({
      status: 'already',
    });
    const uploadsBefore = count(sim, 'buildUploads');
    const writesBefore = writes(sim);
    const second = await deployCli(
      await ipa('r2.ipa', { version: '4.0.1', build: '1' }),
      '--app-store',
      '--submit-review',
    );
    expect(second.code).toBe(5);
    expect(second.stderr).toMatch(
      /App Store version 4\.0\.0 is WAITING_FOR_REVIEW.*4\.0\.1 cannot be created \[APP_STORE_VERSION_OPEN\] — Wait until App Review is done with 4\.0\.0/,
    );
    expect(count(sim, 'buildUploads')).toBe(uploadsBefore);
    expect(writes(sim)).toBe(writesBefore);
    expect(count(sim, 'reviewSubmissions')).toBe(1);
    expect(count(sim, 'reviewSubmissionItems')).toBe(1);
  });

  it('issue 10.16: with version 9.9.9 open, a dry run names it and how to clear it, with every other blocker; the real run stops before uploading', async () => {
    const seed = {
      ...DEFAULT_SEED,
      appStoreVersions: [
        { app: 'com.example.sandbox.one', versionString: '9.9.9', appVersionState: 'PREPARE_FOR_SUBMISSION' },
      ],
    };
    const { sim, ipa, deployCli } = await setup({ seed });
    const file = await ipa('o.ipa', { version: '1.0.0', build: '2' });
    const dry = await deployCli(file, '--app-store', '--group', 'Nightly', '--dry-run');
    expect(dry.code).toBe(4);
    const line = dry.stderr.split('\n').find((l) => l.startsWith('ascend:'))!;
    expect(line).toMatch(
      /^ascend: 3 problems stop this deploy: \(1\) no beta group named "Nightly".*\[GROUP_NOT_FOUND\]: Use one of/,
    );
    expect(line).toMatch(
      /\(2\) build 2 of version 1\.0\.0 already exists.*\[BUILD_NUMBER_USED\]: Raise CFBundleVersion/,
    );
    expect(line).toMatch(
      /\(3\) App Store version 9\.9\.9 is PREPARE_FOR_SUBMISSION.*\[APP_STORE_VERSION_OPEN\]: Deploy this build as 9\.9\.9 .*Remove Version/,
    );
    expect(JSON.parse(dry.stdout).error.code).toBe('GROUP_NOT_FOUND');
    const real = await deployCli(await ipa('p.ipa', { version: '1.0.0', build: '3' }), '--app-store');
    expect(real.code).toBe(5);
    expect(real.stderr).toMatch(/App Store version 9\.9\.9 is PREPARE_FOR_SUBMISSION.*\[APP_STORE_VERSION_OPEN\]/);
    expect(writes(sim)).toBe(0);
  });

  it('a missing app record is listed together with the missing compliance answer, in one run', async () => {
    const { sim, ipa, deployCli } = await setup();
    const r = await deployCli(await ipa('m.ipa', { bundleId: 'com.example.nowhere', encryption: null }), '--dry-run');
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(
      /2 problems stop this deploy: \(1\) .*does not say whether it uses non-exempt encryption.*\[ENCRYPTION_UNANSWERED\]: .*\(2\) no app record with bundle ID com\.example\.nowhere .*\[APP_NOT_FOUND\]: .*Apps/,
    );
    expect(writes(sim)).toBe(0);
  });

  it('--release and --phased without --app-store are refused, with the fix (exit 2)', async () => {
    const { sim, ipa, deployCli } = await setup();
    const file = await ipa('x.ipa', { version: '1.8.0', build: '1' });
    const r = await deployCli(file, '--release', 'manual', '--phased');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--release, --phased need --app-store \[USAGE\] — Add --app-store .* or drop --release, --phased\./,
    );
    expect(sim.stats.size).toBe(0);
  });

  it('on a terminal each step is printed once (live, on stderr); the summary does not repeat them', async () => {
    const { sim, dir, env, ipa } = await setup();
    const file = await ipa('t.ipa', { version: '1.9.0', build: '1' });
    const { io, text } = captureIo();
    const code = await main(['deploy', file, '--api-url', sim.url, '--group', 'Internal Testers'], io, () => ({
      env: { ...env, HOME: dir },
      cwd: dir,
      stdoutIsTTY: true,
      stderrIsTTY: true,
    }));
    expect(code, text.stderr).toBe(0);
    const all = `${text.stdout}\n${text.stderr}`;
    // Info.plist answers export compliance and Apple settles it from the binary: nothing left to do there.
    for (const step of ['upload done', 'process done', 'compliance already', 'groups done', 'betaReview skipped'])
      expect(
        all.split('\n').filter((l) => l.startsWith(step)),
        `${step}\n${all}`,
      ).toHaveLength(1);
    expect(text.stdout).toMatch(/^Deployed com\.example\.sandbox\.one 1\.9\.0 \(1\) IOS\n/);
    expect(text.stdout).toMatch(/TestFlight groups Internal Testers \(internal\)/);
  });

  it('ascend demo runs the same deploy pipeline, says TestFlight, and names ./bin/ascend in its hints', async () => {
    const r = await runCli(['demo']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).deploy).toMatchObject({
      changed: true,
      betaAppReviewSubmission: { betaReviewState: 'WAITING_FOR_REVIEW' },
      reviewSubmission: { state: 'WAITING_FOR_REVIEW' },
    });
    const home = mkdtempSync(join(tmpdir(), 'ascend-demo-test-'));
    dirs.push(home);
    const { io, text } = captureIo();
    const code = await main(['demo'], io, () => ({
      env: { HOME: home },
      cwd: home,
      stdoutIsTTY: true,
      stderrIsTTY: true,
    }));
    expect(code, text.stderr).toBe(0);
    expect(text.stderr).toMatch(/deploying it to TestFlight and App Review/);
    expect(text.stderr).toMatch(/^betaReview done: submitted for external beta review$/m);
    expect(text.stderr).toMatch(/^submitReview done: .*submitted version 1\.0\.0 for App Review$/m);
    expect(text.stdout).toMatch(/^TestFlight groups Internal Testers \(internal\), External Testers$/m);
    expect(text.stdout).toMatch(/^ {2}\.\/bin\/ascend keys add /m);
    expect(text.stdout.split('\n').filter((l) => /^\s*ascend /.test(l))).toEqual([]);
  }, 60_000);
});
