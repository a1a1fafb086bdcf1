import { systemClock } from '../../core/clock.js';
import { AscendError, CATALOGUE, EXIT } from '../../core/errors.js';
import { escapeControl } from '../../core/text.js';
import { isIndividualKey } from '../../credentials/types.js';
import { runChecks } from '../../doctor/checks/index.js';
import type { DoctorFacts } from '../../doctor/facts.js';
import { gatherFacts } from '../../doctor/gather.js';
import type { Finding } from '../../doctor/types.js';
import { SigningKeyStore } from '../../signing/key-store.js';
import { errorLine } from '../exit.js';
import { table } from '../io.js';
import type { Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** What was looked at, so "no findings" can be told apart from "nothing checked". */
function checkedOf(facts: DoctorFacts) {
  return {
    apps: facts.apps,
    certificates: facts.certificates?.length ?? null,
    profiles: facts.profiles?.length ?? null,
    builds: facts.builds.length,
    appStoreVersions: facts.versions.length,
  };
}

function summary(facts: DoctorFacts, findings: Finding[]): string {
  const k = facts.key;
  const signing =
    facts.certificates && facts.profiles
      ? `${count(facts.certificates.length, 'certificate')}, ${count(facts.profiles.length, 'profile')}, `
      : 'no certificates or profiles (not readable with this key), ';
  const scope =
    k.status === 'accepted'
      ? `${signing}${count(facts.builds.length, 'build')} and ${count(facts.versions.length, 'App Store version')} of ${count(facts.apps.length, 'app')}`
      : 'nothing else (App Store Connect refused every request)';
  const errors = findings.filter((f) => f.severity === 'error').length;
  const verdict = findings.length
    ? `${count(errors, 'error')}, ${count(findings.length - errors, 'warning')}`
    : 'no problems found';
  return `${verdict} — checked key ${k.keyId} (${k.kind}${k.role ? `, ${k.role}` : ''}), ${scope}; as of ${new Date(facts.now).toISOString()}`;
}

/** The findings as a table, then each one's message and fix; every text from Apple shown escaped. */
function render(findings: Finding[]): string {
  const rows = findings.map((f) => [f.severity, f.code, f.subject, f.expiresAt?.slice(0, 10) ?? '']);
  const details = findings.map((f, i) =>
    [
      `${i + 1}. ${f.code} — ${escapeControl(f.subject)}`,
      `   ${escapeControl(f.message)}`,
      `   fix: ${escapeControl(f.fix)}`,
    ].join('\n'),
  );
  return `${table(['SEVERITY', 'CODE', 'SUBJECT', 'EXPIRES'], rows)}\n${details.join('\n\n')}\n\n`;
}

/**
 * `ascend doctor [--app APP]`: one read-only pass over what expires quietly and breaks release days. Exit 0
 * when nothing is broken (warnings say what will be), 11 (`DOCTOR_FOUND_PROBLEMS`) when something is.
 */
export async function run(rt: Runtime, _args: ArgsOf<'doctor'>, opts: OptionsOf<'doctor'>): Promise<number> {
  // Bundle IDs are letters, digits, dots and hyphens; Apple IDs are digits. Anything else is refused before a request.
  if (opts.app !== undefined && !/^[A-Za-z0-9.-]{1,255}$/.test(opts.app))
    throw new AscendError('USAGE', `--app "${opts.app}" is not a bundle ID or an Apple ID`, {
      remedy: 'Give the app’s bundle ID (e.g. com.example.app) or its numeric Apple ID; `ascend apps list` shows both.',
    });
  const key = await rt.key();
  const facts = await gatherFacts({
    client: await rt.client(),
    key: { keyId: key.keyId, individual: isIndividualKey(key) },
    heldCertificateIds: () => new SigningKeyStore(rt.config.home).ids(),
    app: opts.app,
    clock: systemClock,
  });
  const findings = runChecks(facts);
  const errors = findings.filter((f) => f.severity === 'error').length;
  if (rt.config.json) {
    rt.out.json({
      checkedAt: new Date(facts.now).toISOString(),
      key: { keyId: facts.key.keyId, kind: facts.key.kind, status: facts.key.status, role: facts.key.role ?? null },
      checked: checkedOf(facts),
      findings,
    });
  } else {
    if (findings.length) rt.out.print(render(findings));
    rt.out.print(summary(facts, findings));
  }
  if (!errors) return EXIT.ok;
  rt.io.stderr(
    errorLine(
      {
        exitCode: EXIT.doctor,
        code: 'DOCTOR_FOUND_PROBLEMS',
        message: `doctor found ${count(errors, 'problem')} that break releases (see the findings above)`,
        remedy: CATALOGUE.DOCTOR_FOUND_PROBLEMS.remedy,
      },
      rt.out,
    ),
  );
  return EXIT.doctor;
}
