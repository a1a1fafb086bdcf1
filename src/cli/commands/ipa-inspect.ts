import { AscendError } from '../../core/errors.js';
import { escapeControl } from '../../core/text.js';
import { inspectIpa } from '../../ipa/inspect.js';
import { preflight } from '../../ipa/preflight.js';
import type { BundleFacts, Finding } from '../../ipa/types.js';
import type { Runtime } from '../runtime.js';

/** Bytes for people: "512 bytes", "1 byte", "12.3 KiB", "4.0 MiB", "2.10 GiB" (never "0.0 MiB"). */
export function formatSize(n: number): string {
  if (n < 1024) return `${n} byte${n === 1 ? '' : 's'}`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function describeBundle(b: BundleFacts): string[] {
  const p = b.profile;
  return [
    `${b.role === 'app' ? 'App' : b.role === 'extension' ? 'Extension' : 'Watch app'}  ${b.path}`,
    `  bundle ID   ${b.bundleId ?? '—'}`,
    `  version     ${b.shortVersion ?? '—'} (${b.buildVersion ?? '—'})`,
    ...(b.role === 'app'
      ? [
          `  minimum OS  ${b.minimumOSVersion ?? '—'}`,
          `  encryption  ${b.usesNonExemptEncryption === null ? 'not declared' : b.usesNonExemptEncryption ? 'non-exempt' : 'exempt'}`,
        ]
      : []),
    `  profile     ${p ? `${p.kind} "${p.name}" (team ${p.teamId}, expires ${p.expirationDate?.slice(0, 10) ?? '—'}${p.signerTrusted ? '' : `, NOT signed by Apple: ${p.signer ?? 'unknown signer'}`})` : (b.profileError ?? 'none')}`,
  ].map((l) => escapeControl(l));
}

function describeFinding(f: Finding): string {
  return `${f.severity === 'error' ? 'error  ' : 'warning'} ${f.code}: ${escapeControl(f.message)} — ${f.fix}`;
}

/** `ascend ipa inspect FILE [--checksums]`: facts and preflight; exit 6 when a preflight error is found. */
export async function run(rt: Runtime, args: unknown[], opts: Record<string, unknown>): Promise<number> {
  const file = String(args[0]);
  const facts = await inspectIpa(file, {
    checksums: Boolean(opts.checksums),
    extraTrustedRoots: rt.config.extraTrustedRoots,
  });
  const findings = preflight(facts, { now: new Date(), target: 'app-store' });
  const errors = findings.filter((f) => f.severity === 'error');
  if (rt.config.json) {
    rt.out.json({ ...facts, preflight: { ok: errors.length === 0, findings } });
  } else {
    const lines = [
      `${escapeControl(facts.file)}  ${formatSize(facts.size)}  ${facts.kind}${facts.platform ? `  ${facts.platform}` : ''}`,
      ...(facts.app ? describeBundle(facts.app) : []),
      ...[...facts.extensions, ...facts.watchApps].flatMap(describeBundle),
      ...(facts.checksums ? [`MD5 ${facts.checksums.md5}`, `SHA-256 ${facts.checksums.sha256}`] : []),
      '',
      findings.length ? findings.map(describeFinding).join('\n') : 'preflight: no problems found',
    ];
    rt.out.print(lines.join('\n'));
  }
  if (errors.length) {
    const e = new AscendError(
      'PREFLIGHT_FAILED',
      `${errors.length} preflight error${errors.length > 1 ? 's' : ''} in ${escapeControl(file)} (${errors.map((f) => f.code).join(', ')})`,
    );
    rt.io.stderr(rt.out.redactor(`ascend: ${e.message} [${e.code}] — ${e.remedy}\n`));
    return e.exitCode;
  }
  return 0;
}
