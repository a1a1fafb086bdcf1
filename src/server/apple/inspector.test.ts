import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../../sample/builder.js';
import { ipaInspector } from './inspector.js';

let dir: string;
let ipa: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ascend-inspector-'));
  ipa = join(dir, 'Sample.ipa');
  await buildIpa(ipa, { bundleId: 'com.example.sandbox.one', version: '1.1.0', build: '5' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const now = () => new Date(Date.UTC(2026, 0, 10));
const errors = (findings: unknown[]) =>
  (findings as { code: string; severity: string }[]).filter((f) => f.severity === 'error').map((f) => f.code);

it('trusts the sample root only when the server is told to (the sandbox), as the CLI does', async () => {
  const trusted = await ipaInspector(now, [SAMPLE_ROOT_SHA256])(ipa, 'Sample.ipa');
  expect(errors(trusted.findings)).toEqual([]);
  expect(trusted.facts).toMatchObject({ file: 'Sample.ipa' });
  const plain = await ipaInspector(now)(ipa, 'Sample.ipa');
  expect(errors(plain.findings).length).toBeGreaterThan(0);
});
