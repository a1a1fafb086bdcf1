import { conflict, simError } from '../errors.js';
import { mustGet } from '../reads.js';
import type { WriteHandler } from '../write-helpers.js';
import { created, now, type Schemas, write } from '../write-helpers.js';
import type { Ca } from './ca.js';
import { parseCsr } from './csr.js';

export interface CertificateLimits {
  /** Current (unexpired) Apple Distribution + iOS Distribution certificates per team; Apple's cap is 3. */
  distribution: number;
}

/** Certificate types the simulator issues, with the portal's name prefix and platform (none = all platforms). */
const ISSUABLE: Record<string, { label: string; platform?: string; distribution: boolean }> = {
  DISTRIBUTION: { label: 'Apple Distribution', distribution: true },
  DEVELOPMENT: { label: 'Apple Development', distribution: false },
  IOS_DISTRIBUTION: { label: 'iPhone Distribution', platform: 'IOS', distribution: true },
  IOS_DEVELOPMENT: { label: 'iPhone Developer', platform: 'IOS', distribution: false },
  MAC_APP_DISTRIBUTION: { label: '3rd Party Mac Developer Application', platform: 'MAC_OS', distribution: true },
  MAC_APP_DEVELOPMENT: { label: 'Mac Developer', platform: 'MAC_OS', distribution: false },
};
export const DISTRIBUTION_TYPES = new Set(Object.keys(ISSUABLE).filter((t) => ISSUABLE[t]!.distribution));

const YEAR_DAYS = 365;

export function certificateWrites(
  ca: () => Ca,
  limits: CertificateLimits,
  teamName: (id: string) => string,
): Record<string, WriteHandler> {
  return {
    /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-certificates */
    'POST /v1/certificates': write<Schemas['CertificateCreateRequest']>((ctx) => {
      const { certificateType, csrContent } = ctx.body.data.attributes as {
        certificateType: string;
        csrContent: string;
      };
      const kind = ISSUABLE[certificateType];
      if (!kind) {
        throw simError(
          501,
          'NOT_SIMULATED',
          'Not simulated',
          `The simulator does not issue ${certificateType} certificates`,
        );
      }
      const publicKey = parseCsr(csrContent);
      const nowMs = ctx.clock.now();
      if (kind.distribution) {
        const current = ctx.store
          .list('certificates')
          .filter(
            (c) =>
              c.teamId === ctx.teamId &&
              DISTRIBUTION_TYPES.has(String(c.attributes.certificateType)) &&
              Date.parse(String(c.attributes.expirationDate)) > nowMs,
          );
        if (current.length >= limits.distribution) {
          // Apple's wording (reported by codemagic-docs#770, fastlane#19349).
          throw entityError('You already have a current Distribution certificate or a pending certificate request.');
        }
      }
      const team = teamName(ctx.teamId);
      const cn = `${kind.label}: ${team} (${ctx.teamId})`;
      const cert = ca().issue(
        publicKey,
        [
          { name: 'userId', shortName: 'UID', type: '0.9.2342.19200300.100.1.1', value: ctx.teamId } as never,
          { name: 'commonName', value: cn },
          { name: 'organizationalUnitName', value: ctx.teamId },
          { name: 'organizationName', value: team },
          { name: 'countryName', value: 'US' },
        ],
        nowMs,
        YEAR_DAYS,
      );
      const rec = ctx.store.insert({
        type: 'certificates',
        teamId: ctx.teamId,
        attributes: {
          name: cn,
          certificateType,
          displayName: team,
          serialNumber: cert.serialNumber,
          ...(kind.platform ? { platform: kind.platform } : {}),
          expirationDate: cert.notAfter.toISOString(),
          certificateContent: cert.der.toString('base64'),
          activated: true,
        },
        rels: {},
        internal: { issuedAt: now(ctx) },
      });
      return created(ctx, rec);
    }),
    /** Revokes: https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-certificates-_id_ */
    'DELETE /v1/certificates/{id}': (ctx) => {
      const rec = mustGet(ctx, 'certificates', ctx.pathParams[0]!);
      ctx.store.remove('certificates', rec.id);
      return { status: 204 };
    },
  };
}

/** Apple answers the certificate cap with a bare ENTITY_ERROR (no sub-code, no pointer). */
function entityError(detail: string) {
  const err = conflict('ENTITY_ERROR', detail);
  err.errors[0]!.title = 'There is a problem with the request entity';
  return err;
}
