import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { expect } from 'vitest';
import { SAMPLE_ROOT_SHA256 } from '../../src/sample/builder.js';
import { BIN, tempEnv } from '../helpers/cli.js';

/**
 * The dashboard's browser tests: a real `ascend server start --sandbox` on a random port, and Debian's
 * Chromium driven by playwright-core. Without /usr/bin/chromium the tests skip with a note (CI installs it).
 */
export const CHROMIUM = process.env.ASCEND_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) process.stderr.write(`note: ${CHROMIUM} is absent: the dashboard's browser tests are skipped\n`);

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds the dashboard when dist/web is missing or older than web/ or the API types it imports. */
export function ensureWebBuilt(): void {
  const index = join(ROOT, 'dist/web/index.html');
  const sources = Math.max(newest(join(ROOT, 'web')), statSync(join(ROOT, 'src/server/api/types.ts')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`building the dashboard failed:\n${r.stdout}${r.stderr}`);
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Chromium with a fresh profile: playwright-core starts it with its own new `--user-data-dir` in a temporary
 * folder and removes it on close (it refuses one passed in `args`), and each context is a separate person.
 */
export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return { browser, close: () => browser.close() };
}

export interface RunningServer {
  url: string;
  signInLink: string;
  data: string;
  dir: string;
  adminToken(): string;
  stop(): Promise<void>;
}

/**
 * `ascend server start --sandbox --port 0` as a child process in a temporary folder; `stop` ends it. `extraArgs`
 * go after the harness's own, e.g. `--allow-private-notify-targets`.
 */
export async function startServer(
  extraEnv: Record<string, string> = {},
  extraArgs: readonly string[] = [],
): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ascend-browser-'));
  const data = join(dir, 'data');
  const tokenFile = join(dir, 'admin.token');
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [
      BIN,
      'server',
      'start',
      '--sandbox',
      '--port',
      '0',
      '--data',
      data,
      '--write-admin-token',
      tokenFile,
      ...extraArgs,
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        ...tempEnv(),
        HOME: dir,
        ASCEND_EXTRA_TRUSTED_ROOTS: SAMPLE_ROOT_SHA256,
        ...extraEnv,
      },
      cwd: dir,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const lines = await new Promise<string[]>((done, fail) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdout.on('data', (d) => {
      out += d;
      const l = out.split('\n');
      if (l.length > 2) done(l.slice(0, 2));
    });
    child.on('close', (code) => fail(new Error(`server exited ${code} before printing its lines: ${err}`)));
  });
  const { readFileSync } = await import('node:fs');
  return {
    url: lines[0]!.slice('ascend server: '.length),
    signInLink: lines[1]!.slice('Sign in: '.length),
    data,
    dir,
    adminToken: () => readFileSync(tokenFile, 'utf8').trim(),
    async stop() {
      if (child.exitCode === null) {
        const ended = new Promise((r) => child.once('close', r));
        child.kill('SIGTERM');
        await ended;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A port free now on 127.0.0.1, for a server that must know its own URL before it starts (`--public-url`, to
 * which the sandbox's Apple sends webhooks): a later `--port` wins over the harness's 0.
 */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as import('node:net').AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * expect.poll with room for a loaded machine (its default gives up after 1 s): the page is waited for, never
 * timed, so a slow run passes and a wrong page still fails.
 */
export function poll<T>(fn: () => T | Promise<T>, opts: { timeout?: number } = {}) {
  return expect.poll(fn, { timeout: 15_000, interval: 50, ...opts });
}
