import type { CertificateFacts } from '../facts.js';
import { type Finding, finding } from '../types.js';
import { dateOf, expiryBand, relative } from '../when.js';

const ENSURE = '`ascend signing ensure --app BUNDLE_ID --out DIR`';

/** Certificates past their date or expiring within the window, and whether this machine holds their key. */
export function checkCertificates(certs: CertificateFacts[], now: number, windowDays: number): Finding[] {
  const out: Finding[] = [];
  for (const c of certs) {
    const at = dateOf(c.expirationDate);
    if (at === undefined) continue;
    const band = expiryBand(at, now, windowDays);
    if (band === 'later') continue;
    const subject = `certificate ${c.id} (${c.name}, serial ${c.serialNumber})`;
    const held = c.keyHeld ? 'its private key is held on this machine' : 'its private key is not on this machine';
    const expiresAt = new Date(at).toISOString();
    if (band === 'expired') {
      out.push(
        finding('CERTIFICATE_EXPIRED', {
          subject,
          expiresAt,
          message: `The ${c.certificateType} certificate expired ${relative(at, now)}: nothing can be signed with it, and the profiles that embed it are invalid (${held}).`,
          fix: `Revoke it with \`ascend signing revoke ${c.id}\` and make a new certificate and profile with ${ENSURE}.`,
        }),
      );
      continue;
    }
    out.push(
      finding('CERTIFICATE_EXPIRING', {
        subject,
        expiresAt,
        message: `The ${c.certificateType} certificate expires ${relative(at, now)}; from then builds cannot be signed with it and its profiles turn invalid (${held}).`,
        fix: c.keyHeld
          ? `Before then, run ${ENSURE}: it replaces a certificate and profile that expire within 30 days.`
          : `Renew it on the machine that holds its key, or make a new one here with ${ENSURE}.`,
      }),
    );
  }
  return out;
}
