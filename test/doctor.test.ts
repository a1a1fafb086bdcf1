import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CreatedKey, type Simulator, startSimulator } from '../simulator/index.js';
import { DEFAULT_SEED } from '../simulator/seed.js';
import type { Io } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { BIN } from './helpers/cli.js';

/**
 * `ascend doctor` end to end: the real binary against the simulator, whose clock is moved across each
 * boundary (build 14 days before expiry and past it, certificate and profile 30 days before and past it,
 * an agreement lapsing, a key revoked). Each alert appears once, and goes away when its cause is fixed.
 */

const DAY_S = 86_400;
const APP = 'com.example.sandbox.one';
/** A group name with terminal escape sequences: Apple's text is printed escaped, never acted on. */
const EVIL_GROUP = 'QA\u001b]0;owned\u0007\u001b[2J';
let sim: Simulator;
let dir: string;
let key: CreatedKey;
let t0: number;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function envFor(k: CreatedKey): Record<string, string> {
  writeFileSync(join(dir, `${k.keyId}.p8`), k.privateKeyPem, { mode: 0o600 });
  return {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    ASCEND_HOME: join(dir, 'ascend'),
    ASC_KEY_ID: k.keyId,
    ...(k.issuerId ? { ASC_ISSUER_ID: k.issuerId } : {}),
    ASC_PRIVATE_KEY_PATH: join(dir, `${k.keyId}.p8`),
    ASC_API_URL: sim.url,
  };
}

function ascend(args: string[], k: CreatedKey = key): Promise<Run> {
  const env = envFor(k);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Doc {
  checkedAt: string;
  key: { keyId: string; kind: string; status: string; role: string | null };
  checked: { apps: string[]; certificates: number | null; profiles: number | null };
  findings: { code: string; severity: string; subject: string; expiresAt?: string; message: string; fix: string }[];
}

async function doctor(extra: string[] = ['--app', APP], k: CreatedKey = key): Promise<Run & { doc: Doc }> {
  const r = await ascend(['doctor', '--json', ...extra], k);
  let doc: Doc;
  try {
    doc = JSON.parse(r.stdout) as Doc;
  } catch {
    throw new Error(`doctor printed no JSON (exit ${r.code}): ${r.stderr}`);
  }
  return { ...r, doc };
}

/** The human output, as a terminal gets it (in process: a spawned process has no TTY, so it prints JSON). */
async function doctorOnTerminal(args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), readStdin: async () => '' };
  const code = await main(['doctor', ...args], io, () => ({
    env: envFor(key),
    cwd: dir,
    stdoutIsTTY: true,
    stderrIsTTY: true,
  }));
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const codes = (d: Doc) => d.findings.map((f) => f.code);

async function admin(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

const setClock = (daysAfterStart: number) =>
  admin('/__sim/clock', { now: new Date(t0 + daysAfterStart * DAY_S * 1000).toISOString() });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ascend-doctor-'));
  mkdirSync(join(dir, 'ascend'), { mode: 0o700 });
  sim = await startSimulator({
    seed: {
      ...DEFAULT_SEED,
      betaGroups: [...(DEFAULT_SEED.betaGroups ?? []), { app: APP, name: EVIL_GROUP, isInternalGroup: true }],
      builds: [{ app: APP, version: '2.0.0', buildNumber: '10' }],
      appStoreVersions: [{ app: 'com.example.sandbox.two', versionString: '1.1', appVersionState: 'REJECTED' }],
    },
  });
  t0 = Date.parse(((await (await fetch(`${sim.url}/__sim/clock`)).json()) as { now: string }).now);
  key = sim.createKey({ role: 'APP_MANAGER' });
});

afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ascend doctor against the simulator', () => {
  let buildId: string;
  let certId: string;
  let certExpires: string;

  it('set-up: signing made with ascend, the build put in a beta group', async () => {
    const ensure = await ascend(['signing', 'ensure', '--app', APP, '--out', join(dir, 'out1'), '--json']);
    expect(ensure.code, ensure.stderr).toBe(0);
    const signing = JSON.parse(ensure.stdout) as { certificate: { id: string; expirationDate: string } };
    certId = signing.certificate.id;
    certExpires = new Date(signing.certificate.expirationDate).toISOString();
    const builds = await ascend(['builds', 'list', '--app', APP, '--json']);
    expect(builds.code, builds.stderr).toBe(0);
    buildId = (JSON.parse(builds.stdout) as { builds: { id: string }[] }).builds[0]!.id;
    const add = await ascend([
      'testflight',
      'groups',
      '--app',
      APP,
      '--add-build',
      buildId,
      '--group',
      'Internal Testers',
      '--group',
      EVIL_GROUP,
    ]);
    expect(add.code, add.stderr).toBe(0);
  });

  it('clean: exit 0, no findings, the key’s role inferred', async () => {
    const r = await doctor();
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc.findings).toEqual([]);
    expect(r.doc.key).toMatchObject({ keyId: key.keyId, status: 'accepted', role: 'App Manager' });
    expect(r.stderr).toBe('');
  });

  it('a malformed --app is a one-line usage error (exit 2) before any request; an unknown app is exit 4', async () => {
    const bad = await ascend(['doctor', '--app', 'com.x\u001b[2J; rm']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^ascend: --app "com\.x\\x1b\[2J; rm" is not a bundle ID or an Apple ID \[USAGE\] — /);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const unknown = await ascend(['doctor', '--app', 'com.example.nothing']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('[APP_NOT_FOUND]');
  });

  it('an App Store version stuck in REJECTED is an error for that app only', async () => {
    const r = await doctor(['--app', 'com.example.sandbox.two']);
    expect(r.code).toBe(11);
    expect(codes(r.doc)).toEqual(['VERSION_REJECTED']);
    expect(r.stderr).toContain('[DOCTOR_FOUND_PROBLEMS]');
  });

  it('build 10 days from expiry, still in a group → one warning (exit 0); past expiry → the group’s error', async () => {
    await setClock(80);
    const r = await doctor();
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc.findings).toHaveLength(1);
    expect(r.doc.findings[0]).toMatchObject({ code: 'BUILD_EXPIRING', severity: 'warning' });
    expect(r.doc.findings[0]!.subject).toContain(buildId);
    expect(r.doc.findings[0]!.message).toContain(`"Internal Testers", "${EVIL_GROUP}"`);
    const human = await doctorOnTerminal(['--app', APP]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/SEVERITY\s+CODE\s+SUBJECT\s+EXPIRES/);
    expect(human.stdout).toMatch(/warning\s+BUILD_EXPIRING/);
    expect(human.stdout).toContain('"QA\\x1b]0;owned\\x07\\x1b[2J"');
    expect(human.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(human.stdout).toContain('fix: Upload a newer build');
    expect(human.stdout).toContain('0 errors, 1 warning');
    expect(human.stderr).toBe('');
    expect(Date.parse(r.doc.checkedAt)).toBeGreaterThanOrEqual(t0 + 80 * DAY_S * 1000 - 1000);
    await setClock(91);
    const past = await doctor();
    expect(past.code).toBe(11);
    // One error per group whose newest build it was; the warning is gone.
    expect(past.doc.findings.map((f) => [f.code, f.severity, f.subject])).toEqual([
      ['GROUP_BUILD_EXPIRED', 'error', `beta group "Internal Testers" of ${APP}`],
      ['GROUP_BUILD_EXPIRED', 'error', `beta group "${EVIL_GROUP}" of ${APP}`],
    ]);
  });

  it('the build taken out of the group → the alert resolves', async () => {
    const rm = await ascend([
      'testflight',
      'groups',
      '--app',
      APP,
      '--remove-build',
      buildId,
      '--group',
      'Internal Testers',
      '--group',
      EVIL_GROUP,
    ]);
    expect(rm.code, rm.stderr).toBe(0);
    const r = await doctor();
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc.findings).toEqual([]);
  });

  it('certificate and profile 20 days from expiry → warnings (exit 0), the held key noted', async () => {
    await setClock(345);
    const r = await doctor();
    expect(r.code, r.stderr).toBe(0);
    expect(codes(r.doc).sort()).toEqual(['CERTIFICATE_EXPIRING', 'PROFILE_EXPIRING']);
    const cert = r.doc.findings.find((f) => f.code === 'CERTIFICATE_EXPIRING')!;
    expect(cert).toMatchObject({ severity: 'warning', expiresAt: certExpires });
    expect(cert.subject).toContain(certId);
    expect(cert.message).toContain('held on this machine');
  });

  it('past their date → certificate and profile errors, exit 11 with the one-line verdict on stderr', async () => {
    await setClock(366);
    const r = await doctor();
    expect(r.code).toBe(11);
    expect(codes(r.doc).sort()).toEqual(['CERTIFICATE_EXPIRED', 'PROFILE_EXPIRED']);
    expect(r.doc.findings.every((f) => f.severity === 'error')).toBe(true);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ascend: doctor found 2 problems .*\[DOCTOR_FOUND_PROBLEMS\] — /);
    const human = await doctorOnTerminal(['--app', APP]);
    expect(human.code).toBe(11);
    expect(human.stdout).toMatch(/error\s+CERTIFICATE_EXPIRED/);
    expect(human.stdout).toContain(`fix: Revoke it with \`ascend signing revoke ${certId}\``);
    expect(human.stdout).toContain('2 errors, 0 warnings');
    for (const line of key.privateKeyPem.split('\n').filter((l) => l.length > 20)) {
      expect(human.stdout + human.stderr + r.stdout + r.stderr).not.toContain(line);
    }
  });

  it('the old certificate revoked and signing made again → clean', async () => {
    expect((await ascend(['signing', 'revoke', certId])).code).toBe(0);
    const ensure = await ascend(['signing', 'ensure', '--app', APP, '--out', join(dir, 'out2'), '--json']);
    expect(ensure.code, ensure.stderr).toBe(0);
    const r = await doctor();
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc.findings).toEqual([]);
  });

  it('an agreement lapsing on the clock → exit 11 with only the agreement finding; accepted again → clean', async () => {
    const now = Date.parse(((await (await fetch(`${sim.url}/__sim/clock`)).json()) as { now: string }).now);
    await admin('/__sim/agreements', {
      teamId: 'SANDBOXTM1',
      state: 'active',
      expiresAt: new Date(now + DAY_S * 1000).toISOString(),
    });
    expect((await doctor()).doc.findings).toEqual([]);
    await setClock(368);
    const r = await doctor();
    expect(r.code).toBe(11);
    expect(r.doc.key.status).toBe('agreement');
    expect(r.doc.findings).toHaveLength(1);
    expect(r.doc.findings[0]).toMatchObject({ code: 'AGREEMENT_MISSING', severity: 'error' });
    await admin('/__sim/agreements', { teamId: 'SANDBOXTM1', state: 'active' });
    const fixed = await doctor();
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.doc.findings).toEqual([]);
  });

  it('a revoked key → exit 11 with KEY_REJECTED; a new key → clean', async () => {
    await admin(`/__sim/keys/${key.keyId}/revoke`, {});
    const r = await doctor();
    expect(r.code).toBe(11);
    expect(r.doc.findings.map((f) => [f.code, f.severity])).toEqual([['KEY_REJECTED', 'error']]);
    key = sim.createKey({ role: 'APP_MANAGER' });
    const fixed = await doctor();
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.doc.findings).toEqual([]);
  });

  it('an individual key → one warning that signing was not checked (exit 0), its kind in the report', async () => {
    const individual = sim.createKey({ role: 'APP_MANAGER', individual: true });
    const r = await doctor(['--app', APP, '--individual'], individual);
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc.key).toMatchObject({ keyId: individual.keyId, kind: 'individual', status: 'accepted' });
    expect(r.doc.findings.map((f) => [f.code, f.severity])).toEqual([['KEY_INDIVIDUAL', 'warning']]);
    expect(r.doc.checked).toMatchObject({ apps: [APP], certificates: null, profiles: null });
  });
});
