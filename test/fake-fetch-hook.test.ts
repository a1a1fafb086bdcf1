import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

/**
 * The scripted fetch fails a test after it ends even when the test swallowed the error (test/helpers/fake-fetch.ts
 * registers an afterEach): run a fixture file whose tests do exactly that, and read vitest's verdicts.
 */
describe('the scripted fetch’s afterEach check', () => {
  it('fails a test that swallowed an unexpected request or left a scripted request unsent, and only those', async () => {
    const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [vitest, 'run', '--config', 'test/fixtures/vitest.fixture.config.ts'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let s = '';
      child.stdout.on('data', (d) => {
        s += d;
      });
      child.on('error', reject);
      child.on('close', () => resolve(s));
    });
    const report = JSON.parse(out.slice(out.indexOf('{'))) as {
      testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
    };
    const results = report.testResults.flatMap((f) => f.assertionResults);
    expect(results.map((r) => [r.title, r.status])).toEqual([
      ['swallows an unexpected request', 'failed'],
      ['never sends a scripted request', 'failed'],
      ['uses its script exactly', 'passed'],
    ]);
    expect(results[0]!.failureMessages.join('')).toContain('got GET /v1/builds, expected GET /v1/apps');
    expect(results[1]!.failureMessages.join('')).toContain('1 scripted request(s) never sent');
  }, 60_000);
});
