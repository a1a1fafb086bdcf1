import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../simulator/index.js';
import { seededRandom } from '../../src/core/clock.js';
import { SAMPLE_ROOT_SHA256 } from '../../src/sample/builder.js';
import { BIN, runCli } from '../helpers/cli.js';
import { sampleIpa } from '../helpers/deploy.js';
import { tempDir } from '../helpers/temp.js';

/**
 * Crash soak: the deploy process is killed (SIGKILL) at seeded points, then run again until it finishes. A
 * point is "when the simulator receives the Nth request of this run" (API call or upload part), N drawn from
 * the seed: the request is then applied but its answer never read, the hardest moment to resume from. Being
 * counted in requests rather than milliseconds, each kill happens at the same step however fast the machine. The end state must be what an undisturbed run leaves: one completed upload and no orphan, one
 * build in each group once, one "What to Test", one App Store version with the build, one review submission
 * with one item — for each of two apps.
 */
describe('crash soak: deploys killed at random points converge', () => {
  let sim: Simulator;
  let env: Record<string, string>;
  /** The run being killed: its requests are counted as they arrive, and the process is killed at `killAt`. */
  let victim: { child: ChildProcess; killAt: number; seen: number; killedAt?: string } | undefined;
  beforeAll(async () => {
    sim = createSimulator({
      processingSeconds: 0.4,
      reviewSeconds: 600,
      partSizeBytes: 128 * 1024,
    });
    sim.app.addHook('onRequest', async (req) => {
      const v = victim;
      if (!v || ++v.seen !== v.killAt) return;
      v.killedAt = `${req.method} ${req.url.split('?')[0]}`;
      v.child.kill('SIGKILL');
    });
    await sim.listen();
    const dir = tempDir('ascend-crash-');
    const key = sim.createKey();
    writeFileSync(
      join(dir, 'k.json'),
      JSON.stringify({ key_id: key.keyId, issuer_id: key.issuerId, key: key.privateKeyPem }),
      { mode: 0o600 },
    );
    env = { APP_STORE_CONNECT_API_KEY_PATH: join(dir, 'k.json'), ASCEND_HOME: join(dir, 'home') };
  });
  afterAll(async () => {
    await sim.close();
  });

  const args = (file: string) => [
    'deploy',
    file,
    '--api-url',
    sim.url,
    '--json',
    '--group',
    'Internal Testers',
    '--whats-new',
    'crash soak',
    '--concurrency',
    '2',
    '--app-store',
    '--submit-review',
    '--phased',
  ];

  /** Starts the deploy and kills it when its `killAt`-th request arrives; resolves with where, null if it finished. */
  function killAtRequest(cliArgs: string[], killAt: number): Promise<string | null> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...cliArgs], {
        env: { ...process.env, ASCEND_EXTRA_TRUSTED_ROOTS: SAMPLE_ROOT_SHA256, ...env },
        stdio: 'ignore',
      });
      const v = { child, killAt, seen: 0 } as NonNullable<typeof victim>;
      victim = v;
      child.on('exit', (code) => {
        victim = undefined;
        resolve(v.killedAt ?? (code === 0 ? null : `FAILED: exit ${code} after ${v.seen} requests`));
      });
    });
  }

  it('six killed runs across two deploys end exactly like undisturbed ones', async () => {
    const seed = Number(process.env.ASCEND_CRASH_SEED ?? 42);
    const random = seededRandom(seed);
    const outputs: string[] = [];
    const kills: string[] = [];
    for (const [build, bundleId, group] of [
      ['1', 'com.example.sandbox.one', 'Internal Testers'],
      ['2', 'com.example.sandbox.two', 'QA'],
    ] as const) {
      const file = await sampleIpa('7.0.0', build, 1024 * 1024, bundleId);
      const a = args(file);
      a[a.indexOf('Internal Testers')] = group;
      // The first run is killed within the requests every deploy makes (about 20 API calls before the 8 parts),
      // so each deploy is interrupted at least once; resumed runs make fewer requests and may finish instead.
      for (let i = 0; i < 3; i++) {
        const where = await killAtRequest(a, 1 + Math.floor(random() * (i === 0 ? 24 : 40)));
        if (where === null) break;
        kills.push(`deploy ${build}: killed at ${where}`);
      }
      const done = await runCli(a, { env });
      outputs.push(done.stdout, done.stderr);
      expect(done.code, `seed ${seed}, ${kills.join('; ')}\n${done.stderr}`).toBe(0);
      expect(kills.filter((k) => k.startsWith(`deploy ${build}:`)).length).toBeGreaterThan(0);
      // A run that was not killed either finished or failed on its own; the latter is a bug, not a crash.
      expect(kills.filter((k) => k.includes('FAILED'))).toEqual([]);
    }
    const uploads = sim.store.list('buildUploads');
    expect(
      uploads.map((u) => `${u.attributes.cfBundleVersion}:${(u.attributes.state as { state: string }).state}`).sort(),
    ).toEqual(['1:COMPLETE', '2:COMPLETE']);
    expect(sim.store.list('buildUploadFiles')).toHaveLength(2);
    const builds = sim.store
      .list('builds')
      .filter(
        (b) => sim.store.get('preReleaseVersions', b.rels.preReleaseVersion as string)?.attributes.version === '7.0.0',
      );
    expect(builds).toHaveLength(2);
    for (const b of builds) {
      const group = sim.store
        .list('betaGroups')
        .find((g) => g.rels.app === b.rels.app && g.attributes.isInternalGroup)!;
      expect(b.rels.betaGroups).toEqual([group.id]);
      expect(b.attributes.usesNonExemptEncryption).toBe(false);
      expect(sim.store.list('betaBuildLocalizations').filter((l) => l.rels.build === b.id)).toHaveLength(1);
    }
    for (const app of ['1000000001', '1000000002']) {
      const versions = sim.store.list('appStoreVersions').filter((v) => v.rels.app === app);
      expect(versions).toHaveLength(1);
      expect(builds.map((b) => b.id)).toContain(versions[0]!.rels.build);
      expect(
        sim.store.list('appStoreVersionPhasedReleases').filter((p) => p.rels.appStoreVersion === versions[0]!.id),
      ).toHaveLength(1);
      const subs = sim.store.list('reviewSubmissions').filter((s) => s.rels.app === app);
      expect(subs.map((s) => s.attributes.state)).toEqual(['WAITING_FOR_REVIEW']);
      expect(
        sim.store.list('reviewSubmissionItems').filter((i) => i.rels.reviewSubmission === subs[0]!.id),
      ).toHaveLength(1);
    }
    expect(outputs.join('')).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\.|PRIVATE KEY|[?&]sig=/);
  }, 180_000);
});
