import type { ProfileFacts } from '../facts.js';
import { type Finding, finding } from '../types.js';
import { dateOf, expiryBand, relative } from '../when.js';

const REMAKE =
  'Make it again: `ascend signing ensure --app BUNDLE_ID --out DIR` recreates ascend’s own profile; for another profile, Certificates, Identifiers & Profiles → Profiles → select it → Edit → Save, then download it again.';

/** Profiles past their date, marked INVALID by Apple, or expiring within the window. */
export function checkProfiles(profiles: ProfileFacts[], now: number, windowDays: number): Finding[] {
  const out: Finding[] = [];
  for (const p of profiles) {
    const at = dateOf(p.expirationDate);
    const band = at === undefined ? 'later' : expiryBand(at, now, windowDays);
    const subject = `profile "${p.name}" (${p.profileType}, ${p.id})`;
    const expiresAt = at === undefined ? undefined : new Date(at).toISOString();
    if (band === 'expired') {
      out.push(
        finding('PROFILE_EXPIRED', {
          subject,
          expiresAt,
          message: `The profile expired ${relative(at!, now)}: builds signed with it are refused at upload and no longer install.`,
          fix: REMAKE,
        }),
      );
    } else if (p.profileState === 'INVALID') {
      out.push(
        finding('PROFILE_INVALID', {
          subject,
          expiresAt,
          message:
            'Apple marks the profile INVALID (a certificate in it was revoked or expired, or its App ID’s capabilities changed): nothing can be signed with it.',
          fix: REMAKE,
        }),
      );
    } else if (band === 'soon') {
      out.push(
        finding('PROFILE_EXPIRING', {
          subject,
          expiresAt,
          message: `The profile expires ${relative(at!, now)}; from then builds signed with it are refused.`,
          fix: `Before then, ${REMAKE.charAt(0).toLowerCase()}${REMAKE.slice(1)}`,
        }),
      );
    }
  }
  return out;
}
