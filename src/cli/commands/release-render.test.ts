import { describe, expect, it } from 'vitest';
import type { DeployReport } from '../../release/deploy-types.js';
import { summary } from './release-render.js';

const report: DeployReport = {
  dryRun: false,
  changed: true,
  awaiting: null,
  app: { id: '1', bundleId: 'com.example.\u001b[31mred' },
  version: '1.0.0',
  buildNumber: '3',
  platform: 'IOS',
  build: { id: 'b1', processingState: 'VALID', usesNonExemptEncryption: false },
  buildUpload: null,
  betaGroups: [{ id: 'g', name: 'QA\u0007', isInternalGroup: true }],
  whatsNew: null,
  betaAppReviewSubmission: null,
  appStoreVersion: null,
  phasedRelease: null,
  reviewSubmission: null,
  steps: [{ step: 'upload', status: 'done', detail: 'uploaded x' }],
};

describe('deploy summary', () => {
  it('leaves the steps to the live lines, unless they were silenced (--quiet)', () => {
    expect(summary(report, false)).not.toMatch(/uploaded x/);
    expect(summary(report, true)).toMatch(/^ {2}done {5}upload {8}uploaded x$/m);
  });

  it('shows escape sequences that came from the file or from Apple as visible text, never raw', () => {
    const text = summary(report, true);
    expect(text).toMatch(/^Deployed com\.example\.\\x1b\[31mred 1\.0\.0 \(3\) IOS$/m);
    expect(text).toMatch(/^TestFlight groups QA\\x07 \(internal\)$/m);
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
  });
});
