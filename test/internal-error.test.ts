import { describe, expect, it } from 'vitest';
import { AscNetworkError } from '../src/asc/http/errors.js';
import { reportError, toExitReport } from '../src/cli/exit.js';
import { createOutput } from '../src/cli/io.js';

/** DESIGN §3.3: anything that is not one of ascend's typed errors is a bug — exit 1, and the message says so. */
describe('an unexpected error', () => {
  const run = (err: unknown, opts: { json?: boolean; verbose?: boolean } = {}) => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const out = createOutput(
      { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t), readStdin: async () => '' },
      { verbose: Boolean(opts.verbose), quiet: false },
    );
    const code = reportError(err, out, {
      json: Boolean(opts.json),
      verbose: Boolean(opts.verbose),
      stderr: (t) => stderr.push(t),
    });
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  };

  it('maps to INTERNAL, exit 1, with "this is a bug" wording and no stack trace', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    expect(toExitReport(bug)).toEqual({
      exitCode: 1,
      code: 'INTERNAL',
      message: "unexpected error: Cannot read properties of undefined (reading 'id')",
      remedy: 'This is a bug in ascend; please report it with the output of --verbose.',
    });
    const r = run(bug);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "ascend: unexpected error: Cannot read properties of undefined (reading 'id') [INTERNAL] — This is a bug in ascend; please report it with the output of --verbose.\n",
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('something thrown that is not an Error is still one line, exit 1', () => {
    const r = run('a string');
    expect(r).toMatchObject({ code: 1 });
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      'ascend: unexpected error: a string [INTERNAL] — This is a bug in ascend; please report it with the output of --verbose.',
    ]);
  });

  it('prints the stack with --verbose, and a JSON document with --json', () => {
    const r = run(new Error('boom'), { verbose: true, json: true });
    expect(r.stderr).toMatch(/\[INTERNAL\][^\n]*\nError: boom\n\s+at /);
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        code: 'INTERNAL',
        message: 'unexpected error: boom',
        remedy: 'This is a bug in ascend; please report it with the output of --verbose.',
        exitCode: 1,
      },
    });
  });

  it('a typed error keeps its own code and exit: a lost answer is NETWORK_ERROR, exit 9, not a bug', () => {
    const r = run(new AscNetworkError('GET', '/v1/apps', new TypeError('fetch failed'), false));
    expect(r.code).toBe(9);
    expect(r.stderr).toBe(
      'ascend: GET /v1/apps got no answer from App Store Connect: fetch failed [NETWORK_ERROR] — Check the network connection and --api-url, then retry.\n',
    );
  });
});
