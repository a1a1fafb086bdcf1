import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realSleep, type Sleep } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import { type BuildCommand, type BuildRunnerDeps, lineBatcher, lineCleaner, runBuild } from './build-runner.js';
import { groupAlive } from './process-group.js';

const TIMEOUT = 987_654;
const CUT = '… [line cut]';

/** Every piece of 4 characters or more of `secret` found in `lines`. */
function pieces(lines: readonly string[], secret: string): string[] {
  const text = lines.join('\n');
  const found: string[] = [];
  for (let i = 0; i + 4 <= secret.length; i++)
    if (text.includes(secret.slice(i, i + 4))) found.push(secret.slice(i, i + 4));
  return found;
}
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

  it('a secret straddling the cut of an unfinished line is replaced before the cut, in the log and the tail', async () => {
    const secret = 'Kq7vZr2MwXpL9tYbNc4HdGf6JsAe8UuRiVo1Qx5yTmW'; // 43 characters, no '0'
    const r = run({
      command: 'printf "%04060d" 0; sleep .3; printf "%s" "$MYSECRET"; sleep .3; echo; touch out.txt',
      env: { MYSECRET: secret },
    });
    const res = await r.done;
    expect(r.lines()).toEqual([`${'0'.repeat(4060)}[REDACTED]`]);
    expect(pieces([...r.lines(), ...res.tail], secret)).toEqual([]);
  });

  it('a secret at any offset around the cut is never shown in part', async () => {
    const secret = 'Kq7vZr2MwXpL9tYbNc4H'; // 20 characters
    const offsets = Array.from({ length: 26 }, (_, i) => 20 + i); // the secret starts before, at and after 40
    const r = run(
      {
        command: `for n in ${offsets.join(' ')}; do printf "%0"$n"d" 0; sleep .02; printf "%s" "$S"; sleep .02; printf "%0100d\\n" 0 | tr 0 x; done; touch out.txt`,
        env: { S: secret },
      },
      { maxLineChars: 40 },
    );
    await r.done;
    const want = offsets.map((n) => `${`${'0'.repeat(n)}[REDACTED]${'x'.repeat(100)}`.slice(0, 40)}${CUT}`);
    expect(r.lines()).toEqual(want);
    expect(pieces(r.lines(), secret)).toEqual([]);
  });

  it('a cut that falls inside a secret brought into view by earlier redactions masks its start', () => {
    const secret = 'Kq7vZr2MwXpL9tYbNc4HdGf6JsAe8UuRiVo1Qx5yTmWn3Bh0Pk'; // 50 characters
    const clean = lineCleaner({ S: secret }, 40);
    expect(clean.keepChars).toBe(90);
    // The first copy shrinks to [REDACTED], so the second, cut at 90 before redacting, would show up to 40 characters.
    for (let gap = 0; gap < 40; gap++) {
      const line = clean(`${secret}${'a'.repeat(gap)}${secret}${'b'.repeat(200)}`);
      expect(line.endsWith(CUT)).toBe(true);
      expect(line.startsWith(`[REDACTED]${'a'.repeat(Math.min(gap, 30))}`)).toBe(true);
      expect(pieces([line], secret)).toEqual([]);
    }
    // Also the first line cut short by the reader (one character past keepChars).
    const raw = `${secret}${'a'.repeat(10)}${secret}`.slice(0, 91);
    expect(clean(raw)).toBe(`[REDACTED]${'a'.repeat(10)}[REDACTED]${CUT}`);
    // …also when the reader's cut ends on the '\r' of a CRLF.
    expect(clean(`${raw.slice(0, 90)}\r`)).toBe(`[REDACTED]${'a'.repeat(10)}[REDACTED]${CUT}`);
  });

  it('a value of 32,768 characters is replaced whole, also far past the visible cut', () => {
    const secret = Array.from({ length: 32_768 }, (_, i) => 'abcdefghijklmnopqrstuvwxyz'[(i * 7) % 26]).join('');
    const clean = lineCleaner({ S: secret }, 4096);
    expect(clean(`${'-'.repeat(4000)}${secret}${'+'.repeat(10)}`)).toBe(
      `${'-'.repeat(4000)}[REDACTED]${'+'.repeat(10)}`,
    );
    const cut = clean(`${'-'.repeat(4090)}${secret}${'+'.repeat(10)}`);
    expect(cut).toBe(`${'-'.repeat(4090)}[REDACTED]`.slice(0, 4096) + CUT);
    expect(pieces([cut], secret)).toEqual([]);
  });

  it('a secret of several lines longer than the cut is replaced, not cut', async () => {
    const key = 'first-Kq7vZr2MwXp\nsecond-L9tYbNc4HdGf';
    const r = run({ command: 'printf "%s\\n" "$KEY"; touch out.txt', env: { KEY: key } }, { maxLineChars: 12 });
    await r.done;
    expect(r.lines()).toEqual(['[REDACTED]', '[REDACTED]']);
    const clean = lineCleaner({ KEY: key }, 12);
    const line = clean(`${'.'.repeat(8)}second-L9tYbNc4HdGf${'.'.repeat(50)}`);
    expect(line).toBe(`${'.'.repeat(8)}[REDACTED]`.slice(0, 12) + CUT);
    expect(pieces([line], 'second-L9tYbNc4HdGf')).toEqual([]);
  });

  it("progress redrawn with '\\r' and no newline is redacted in every segment before it is cut", async () => {
    const secret = 'Kq7vZr2MwXpL9tYbNc4H';
    const r = run(
      {
        command: 'for i in $(seq 1 40); do printf "step %s %s\\r" $i "$S"; sleep .01; done; echo; touch out.txt',
        env: { S: secret },
      },
      { maxLineChars: 100 },
    );
    await r.done;
    const [line, ...rest] = r.lines();
    expect(rest).toEqual([]);
    expect(line).toBe(
      `${Array.from({ length: 40 }, (_, i) => `step ${i + 1} [REDACTED]?`).join('')}`.slice(0, 100) + CUT,
    );
    expect(pieces(r.lines(), secret)).toEqual([]);
  });

  it('a long line without secrets is still cut at maxChars with the marker, also when secrets are set', async () => {
    const r = run(
      {
        command: [
          process.execPath,
          '-e',
          'process.stdout.write("x".repeat(1e6) + "\\nnext\\n"); require("fs").writeFileSync("out.txt", "")',
        ],
        env: { S: 'Kq7vZr2MwXpL9tYbNc4H' },
      },
      { maxLineChars: 100 },
    );
    await r.done;
    expect(r.lines()).toEqual([`${'x'.repeat(100)}${CUT}`, 'next']);
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
