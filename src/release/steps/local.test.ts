import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertScriptDone, scriptedEnv, stepOnce } from '../../../test/release/kit.js';
import { buildIpa, type IpaSpec, SAMPLE_ROOT_SHA256 } from '../../sample/builder.js';
import { inspectStep, preflightStep } from './local.js';

const dir = mkdtempSync(join(tmpdir(), 'ascend-local-steps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function facts(name: string, spec: IpaSpec) {
  const file = join(dir, name);
  await buildIpa(file, spec);
  const { fetch, env } = scriptedEnv([]);
  // Sample profiles are signed by the sample root, trusted here as the CLI's extra root would be.
  const r = await stepOnce(inspectStep, env, {}, { file, extraTrustedRoots: [SAMPLE_ROOT_SHA256] });
  assertScriptDone(fetch);
  return { file, facts: r.plan!.output };
}

describe('inspect and preflight steps (local only: any request fails the test)', () => {
  it('inspect reads the archive; preflight yields the facts later steps use', async () => {
    const { file, facts: f } = await facts('ok.ipa', { bundleId: 'com.example.ok', version: '2.1.0', build: '4' });
    expect(f).toMatchObject({
      kind: 'ipa',
      app: { bundleId: 'com.example.ok', shortVersion: '2.1.0', buildVersion: '4' },
    });
    const { fetch, env } = scriptedEnv([]);
    const r = await stepOnce(preflightStep, env, { inspect: f });
    expect(r.plan?.output).toMatchObject({
      file,
      bundleId: 'com.example.ok',
      version: '2.1.0',
      buildNumber: '4',
      platform: 'IOS',
      blockers: [],
    });
    assertScriptDone(fetch);
  });

  it('no export-compliance answer is a blocker for a deploy (passed on, not thrown), not for a bare upload', async () => {
    const { facts: f } = await facts('noenc.ipa', { version: '2.1.0', build: '5', encryption: null });
    const { env } = scriptedEnv([]);
    const deploy = await stepOnce(preflightStep, env, { inspect: f });
    expect(deploy.plan?.output.blockers.map((b) => b.code)).toEqual(['ENCRYPTION_UNANSWERED']);
    const upload = await stepOnce(preflightStep, env, { inspect: f }, { uploadOnly: true });
    expect(upload.plan?.output.blockers).toEqual([]);
    const flagged = await stepOnce(preflightStep, env, { inspect: f }, { encryption: 'non-exempt' });
    expect(flagged.plan?.output).toMatchObject({ usesNonExemptEncryption: true, plistAnswers: false, blockers: [] });
  });

  it('--encryption contradicting Info.plist is a usage error', async () => {
    const { facts: f } = await facts('enc.ipa', { version: '2.1.0', build: '6', encryption: false });
    const { env } = scriptedEnv([]);
    await expect(stepOnce(preflightStep, env, { inspect: f }, { encryption: 'non-exempt' })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });

  it('an archive without a bundle ID stops at once with the local findings (nothing to check remotely)', async () => {
    const { facts: f } = await facts('nobundle.ipa', { bundleId: null });
    const { env } = scriptedEnv([]);
    const err = await stepOnce(preflightStep, env, { inspect: f }).catch((e) => e);
    expect(err).toMatchObject({ code: 'PREFLIGHT_FAILED', exitCode: 6 });
  });
});
