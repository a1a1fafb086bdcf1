import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../simulator/index.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../src/sample/builder.js';
import { fmt, stats, timed } from './lib.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'ascend');
const PROCESSING_S = 2;
const PAYLOAD = 10 * 1024 * 1024;

async function serverUrl(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^ascend server: (\S+)\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('close', (code) => reject(new Error(`server exited ${code}: ${err.slice(0, 500)}`)));
  });
}

/**
 * The same TestFlight deploy (10 MB IPA, internal group "QA", "What to Test") two ways against one
 * simulator with 2 s of upload processing and 2 s of build processing: `ascend deploy` talking to App Store
 * Connect itself, and `ascend push --follow` handing the build to an `ascend server` (a real process, one
 * worker) that runs the same pipeline. Wall time from the command's start to its exit, runs interleaved.
 */
export async function benchServerDeploy(runs = 3): Promise<string> {
  const sim = await startSimulator({ processingSeconds: PROCESSING_S, partSizeBytes: 5 * 1024 * 1024 });
  const dir = mkdtempSync(join(tmpdir(), 'ascend-bench-server-deploy-'));
  const env = { ...process.env, ASCEND_EXTRA_TRUSTED_ROOTS: SAMPLE_ROOT_SHA256 };
  let server: ChildProcessWithoutNullStreams | undefined;
  try {
    const key = sim.createKey({ role: 'APP_MANAGER' });
    writeFileSync(
      join(dir, 'k.json'),
      JSON.stringify({ key_id: key.keyId, issuer_id: key.issuerId, key: key.privateKeyPem }),
      { mode: 0o600 },
    );
    server = spawn(
      process.execPath,
      [
        BIN,
        'server',
        'start',
        '--port',
        '0',
        '--data',
        join(dir, 'data'),
        '--workers',
        '1',
        '--write-admin-token',
        join(dir, 'admin.token'),
        '--api-url',
        sim.url,
      ],
      { env: { ...env, HOME: dir }, cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const url = await serverUrl(server);
    const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    const added = await fetch(`${url}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', keyId: key.keyId, issuerId: key.issuerId, privateKey: key.privateKeyPem }),
    });
    if (added.status !== 201) throw new Error(`adding the key answered ${added.status}: ${await added.text()}`);
    const cli: number[] = [];
    const push: number[] = [];
    for (let i = 0; i < runs; i++) {
      for (const way of ['deploy', 'push'] as const) {
        const file = join(dir, `${way}${i}.ipa`);
        const version = `9.${i}.${way === 'push' ? 1 : 0}`;
        await buildIpa(file, { bundleId: 'com.example.sandbox.two', version, build: '1', payloadBytes: PAYLOAD });
        const flags = ['--group', 'QA', '--whats-new', 'bench'];
        const args =
          way === 'deploy'
            ? ['deploy', file, '--api-url', sim.url, '--json', ...flags]
            : ['push', file, '--server', url, '--token', '@env:ASCEND_TOKEN', '--follow', '--json', ...flags];
        const r = await timed(process.execPath, [BIN, ...args], {
          env: {
            ...env,
            APP_STORE_CONNECT_API_KEY_PATH: join(dir, 'k.json'),
            ASCEND_HOME: join(dir, `home-${way}${i}`),
            ASCEND_TOKEN: token,
          },
        });
        if (r.code !== 0) throw new Error(`${way} exited ${r.code}: ${r.stdout.slice(0, 500)}`);
        (way === 'deploy' ? cli : push).push(r.ms);
      }
    }
    const row = (name: string, xs: number[]) => {
      const s = stats(xs);
      const o = stats(xs.map((x) => x - 2 * PROCESSING_S * 1000));
      return `| ${name} | ${fmt(s.median / 1000, 2)} s (${fmt(s.min / 1000, 2)}–${fmt(s.max / 1000, 2)}) | ${fmt(o.median / 1000, 2)} s |`;
    };
    return [
      '## Deploy through the server vs the CLI',
      '',
      `The same TestFlight deploy (${PAYLOAD / 1024 / 1024} MB IPA, internal group "QA", "What to Test") against one simulator that`,
      `takes ${PROCESSING_S} s to process the upload and ${PROCESSING_S} s to process the build: \`ascend deploy\` calling App Store Connect`,
      'itself, and `ascend push --follow` streaming the build to `ascend server start` (a separate process, one',
      'worker) which runs the same pipeline and streams its events back. Wall time from the command to its exit;',
      `${runs} runs each, interleaved.`,
      '',
      '| way | wall time, median (min–max) | beyond the simulated processing |',
      '| --- | --- | --- |',
      row('`ascend deploy`', cli),
      row('`ascend push --follow` via the server', push),
      '',
    ].join('\n');
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.on('close', r));
      server.kill('SIGINT');
      await exited;
    }
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
