import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realSleep, type Sleep } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import { type BuildCommand, type BuildRunnerDeps, lineBatcher, runBuild } from './build-runner.js';
import { groupAlive } from './process-group.js';

const TIMEOUT = 987_654;
const GRACE = 12_345;

/** The timeout and the grace fire when the test says so; any other wait is real. */
function gatedSleep() {
  const gates = new Map<number, () => void>();
  const opened = new Set<number>();
  const sleep: Sleep = (ms, signal) => {
    if (ms !== TIMEOUT && ms !== GRACE) return realSleep(ms, signal);
    return new Promise((resolve, reject) => {
      if (opened.has(ms)) return resolve();
      gates.set(ms, resolve);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  };
  const open = (ms: number) => {
    opened.add(ms);
    gates.get(ms)?.();
  };
  return { sleep, open };
}

describe('build runner', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ascend-build-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const run = (cmd: Partial<BuildCommand>, over: Partial<BuildRunnerDeps> = {}) => {
    const got: string[][] = [];
    const gate = gatedSleep();
    const deps: BuildRunnerDeps = {
      clock: { now: () => 0 },
      sleep: gate.sleep,
      tempRoot: root,
      baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      onLines: async (l) => void got.push(l),
      graceMs: GRACE,
      ...over,
    };
    const keep = async (file: string) => readFileSync(file, 'utf8');
    const done = runBuild({ command: ['true'], env: {}, artifact: 'out.txt', timeoutMs: TIMEOUT, ...cmd }, deps, keep);
    return { done, got, gate, lines: () => got.flat() };
  };
  const pidOf = (lines: string[]) => Number(lines.find((l) => l.startsWith('pgid '))?.slice(5));
  const until = async (what: () => boolean) => {
    for (let i = 0; i < 500 && !what(); i++) await realSleep(10);
    expect(what()).toBe(true);
  };

  it('runs in a fresh folder, streams redacted output, keeps the one artifact and removes the folder', async () => {
    const secret = 's3cr3t-value-42';
    const r = run({
      command: 'echo "pwd $(pwd)"; echo "the token is $TOKEN"; echo err >&2; mkdir -p out && echo made > out/app.txt',
      workdir: 'src/app',
      env: { TOKEN: secret },
      artifact: '**/app.txt',
    });
    const res = await r.done;
    expect(res).toMatchObject({ outcome: 'succeeded', exitCode: 0, lines: 3, artifact: 'made\n' });
    const text = r.lines().join('\n');
    expect(text).not.toContain(secret);
    expect(text).toContain('the token is [REDACTED]');
    expect(text).toContain('err');
    const pwd = r.lines()[0]!.slice(4);
    expect(pwd.endsWith('/src/app')).toBe(true);
    expect(existsSync(pwd)).toBe(false);
    expect(readdirSync(root)).toEqual([]);
  });

  it('a secret of several lines is hidden line by line', async () => {
    const r = run({ command: 'printf "%s\\n" "$KEY"; touch out.txt', env: { KEY: 'first-line-abc\nsecond-line-def' } });
    await r.done;
    expect(r.lines()).toEqual(['[REDACTED]', '[REDACTED]']);
  });

  it('gives the command only the base environment and its secrets, never the server’s own', async () => {
    process.env.ASCEND_TEST_LEAK = 'must-not-pass';
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, run by /bin/sh
    const r = run({ command: 'echo "leak=${ASCEND_TEST_LEAK:-none} path=${PATH:+set}"; touch out.txt' });
    await r.done;
    delete process.env.ASCEND_TEST_LEAK;
    expect(r.lines()).toEqual(['leak=none path=set']);
  });

  it('a non-zero exit fails with its code and the last lines, and keeps no artifact', async () => {
    let kept = false;
    const gate = gatedSleep();
    const res = await runBuild(
      {
        command: 'for i in 1 2 3 4 5; do echo line $i; done; touch out.txt; exit 3',
        env: {},
        artifact: 'out.txt',
        timeoutMs: TIMEOUT,
      },
      {
        clock: { now: () => 0 },
        sleep: gate.sleep,
        tempRoot: root,
        baseEnv: {},
        onLines: async () => {},
        tailLines: 2,
      },
      async () => {
        kept = true;
      },
    );
    expect(res).toMatchObject({ outcome: 'failed', exitCode: 3, lines: 5, tail: ['line 4', 'line 5'] });
    expect(kept).toBe(false);
  });

  it('a command that cannot start fails with why', async () => {
    const res = await run({ command: ['/nonexistent/xcodebuild'] }).done;
    expect(res.outcome).toBe('failed');
    expect(res.startError).toMatch(/ENOENT/);
  });

  it('past its timeout the whole group gets SIGTERM, then SIGKILL after the grace; nothing is left running', async () => {
    // The shell and its backgrounded grandchild ignore SIGTERM (an ignored signal is inherited across exec).
    const r = run({ command: 'trap \'\' TERM; sleep 1000 & echo "pgid $$"; wait' });
    await until(() => r.lines().length > 0);
    const pgid = pidOf(r.lines());
    expect(await groupAlive(pgid)).toBe(true);
    r.gate.open(TIMEOUT);
    await realSleep(50);
    expect(await groupAlive(pgid)).toBe(true); // SIGTERM was ignored: the grace decides
    r.gate.open(GRACE);
    const res = await r.done;
    expect(res).toMatchObject({ outcome: 'timed-out', exitCode: null, exitSignal: 'SIGKILL' });
    expect(await groupAlive(pgid)).toBe(false);
  });

  it('a cancel stops the whole group, grandchildren included', async () => {
    const cancel = new AbortController();
    const r = run({ command: 'sleep 1000 & echo "pgid $$"; sleep 1000' }, { signal: cancel.signal });
    await until(() => r.lines().length > 0);
    const pgid = pidOf(r.lines());
    cancel.abort(new AscendError('INTERRUPTED', 'cancelled'));
    const res = await r.done;
    expect(res).toMatchObject({ outcome: 'cancelled', exitSignal: 'SIGTERM' });
    expect(await groupAlive(pgid)).toBe(false);
  });

  it('a succeeded command’s leftover background process is killed too', async () => {
    const r = run({ command: 'sleep 1000 & echo "pgid $$"; touch out.txt' });
    const res = await r.done;
    expect(res.outcome).toBe('succeeded');
    expect(await groupAlive(pidOf(r.lines()))).toBe(false);
  });

  it('lines that arrive while a batch is in flight go out together, at most batchLines at a time, with reading paused past 5 batches', async () => {
    const got: string[][] = [];
    let release = () => {};
    const stream = new PassThrough();
    const b = lineBatcher(
      {
        batchLines: 1000,
        onLines: async (lines) => {
          got.push(lines);
          await new Promise<void>((r) => {
            release = r;
          });
        },
      },
      [stream],
    );
    for (let i = 0; i < 100_000; i++) b.push(`line ${i}`);
    // The first line went out alone; the rest wait, and the reader was paused at the high-water mark.
    expect(got.map((g) => g.length)).toEqual([1]);
    expect(stream.isPaused()).toBe(true);
    const drained = b.drain();
    while (got.flat().length < 100_000) {
      release();
      await new Promise((r) => setImmediate(r));
    }
    release();
    await drained;
    expect(got.length).toBe(101);
    expect(got.slice(1, -1).every((g) => g.length === 1000)).toBe(true);
    expect(got.at(-1)).toHaveLength(999);
    expect(got.flat().every((l, i) => l === `line ${i}`)).toBe(true);
    expect(stream.isPaused()).toBe(false);
  });

  it('100,000 lines of a real command arrive, every one of them, in order and in bounded batches', async () => {
    const r = run(
      {
        command: [
          process.execPath,
          '-e',
          'for (let i = 0; i < 100000; i++) console.log("line " + i); require("fs").writeFileSync("out.txt", "")',
        ],
      },
      { batchLines: 1000 },
    );
    const res = await r.done;
    expect(res.lines).toBe(100_000);
    const all = r.lines();
    expect(all.length).toBe(100_000);
    expect(all[99_999]).toBe('line 99999');
    expect(all.every((l, i) => l === `line ${i}`)).toBe(true);
    expect(r.got.every((b) => b.length <= 1000)).toBe(true);
  });

  it('an endless line is cut, not held in memory whole', async () => {
    const r = run(
      {
        command: [
          process.execPath,
          '-e',
          'process.stdout.write("x".repeat(1e6) + "\\nnext\\n"); require("fs").writeFileSync("out.txt", "")',
        ],
      },
      { maxLineChars: 100 },
    );
    await r.done;
    expect(r.lines()).toEqual([`${'x'.repeat(100)}… [line cut]`, 'next']);
  });

  it('zero or several artifact matches are clear errors', async () => {
    await expect(run({ command: 'echo hi', artifact: '*.ipa' }).done).rejects.toMatchObject({
      code: 'BUILD_ARTIFACT_NOT_FOUND',
    });
    await expect(run({ command: 'touch a.ipa b.ipa', artifact: '*.ipa' }).done).rejects.toMatchObject({
      code: 'BUILD_ARTIFACT_AMBIGUOUS',
      message: expect.stringContaining('a.ipa, b.ipa'),
    });
    expect(readdirSync(root)).toEqual([]);
  });
});
