import { AscApiError } from '../asc/http/errors.js';
import { AscendError } from '../core/errors.js';
import { ensureBundleId, validateBundleIdentifier } from './bundle-id.js';
import { ensureCertificate } from './certificate.js';
import type { HeldCertificate } from './key-store.js';
import { ensureProfile } from './profile.js';
import { printable } from './text.js';
import type { SigningContext } from './types.js';

export interface EnsureResult {
  bundleId: { id: string; identifier: string; created: boolean };
  certificate: { id: string; serialNumber: string; expirationDate: string; created: boolean };
  profile: { id: string; name: string; uuid: string; expirationDate: string; created: boolean };
  /** Every change made at Apple, in order; empty when everything was reused. */
  changes: string[];
  /** Held keys whose certificates Apple no longer lists (revoked elsewhere). */
  revokedHeld: string[];
  /** The material to write out; never printed. */
  held: HeldCertificate;
  profileContent: Buffer;
}

/**
 * `signing ensure`: bundle ID, distribution certificate with its key, App Store profile — each reused when
 * valid beyond the renewal window, made otherwise. Idempotent: a second run changes nothing at Apple.
 */
export async function ensureSigning(
  ctx: Omit<SigningContext, 'onWrite'> & { individualKey?: boolean },
): Promise<EnsureResult> {
  validateBundleIdentifier(ctx.bundleIdentifier);
  if (ctx.individualKey)
    throw new AscendError('SIGNING_FORBIDDEN', 'an individual API key cannot manage certificates or profiles');
  const changes: string[] = [];
  const full: SigningContext = { ...ctx, onWrite: (w) => changes.push(w) };
  try {
    // The certificate first: when the team's cap or a role stops it, nothing at all has been created.
    const cert = await ensureCertificate(full);
    const { bundle, created: bundleCreated } = await ensureBundleId(full);
    const prof = await ensureProfile(full, bundle, cert.held);
    return {
      bundleId: { id: bundle.id, identifier: ctx.bundleIdentifier, created: bundleCreated },
      certificate: {
        id: cert.held.certificateId,
        serialNumber: cert.held.serialNumber,
        expirationDate: cert.held.expirationDate,
        created: cert.created,
      },
      profile: {
        id: prof.profile.id,
        name: prof.facts.name ?? '',
        uuid: prof.facts.uuid ?? '',
        expirationDate: prof.profile.attributes?.expirationDate ?? prof.facts.expirationDate?.toISOString() ?? '',
        created: prof.created,
      },
      changes,
      revokedHeld: cert.revokedHeld,
      held: cert.held,
      profileContent: prof.content,
    };
  } catch (err) {
    throw explainForbidden(err);
  }
}

/**
 * Apple answers a key whose role may not provision with a bare 403 FORBIDDEN_ERROR. Which role suffices
 * differs between teams (App Manager on some, Admin on others), so the message says what was refused and the
 * remedy names both.
 */
export function explainForbidden(err: unknown): unknown {
  if (!(err instanceof AscApiError) || err.status !== 403 || err.isAgreementMissing) return err;
  return new AscendError(
    'SIGNING_FORBIDDEN',
    `Apple refused ${err.method} ${err.path} with 403 (${printable(err.errors[0]?.detail ?? err.errors[0]?.title ?? 'forbidden')}): this key's role may not manage certificates and profiles on this team`,
    { cause: err },
  );
}
