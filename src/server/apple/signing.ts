import { listCertificates } from '../../asc/resources/certificates.js';
import { listProfilesWithIdentifiers } from '../../asc/resources/profiles.js';
import type { Clock } from '../../core/clock.js';
import type { ApiKey } from '../../credentials/types.js';
import { isIndividualKey } from '../../credentials/types.js';
import { ensureSigning, explainForbidden } from '../../signing/ensure.js';
import type { SigningKeys } from '../../signing/key-store.js';
import { revokeSigning } from '../../signing/list.js';
import type { SigningGateway } from '../api/context.js';
import type { SigningCertificateView, SigningEnsureSummary } from '../api/types.js';
import type { AscClients } from './clients.js';

/**
 * The team's certificates as Apple lists them, each with whether the team's vault holds its key and the
 * profiles that embed it. A held key whose certificate Apple no longer lists (revoked in the portal) is shown
 * too, with `listedByApple: false`, so the dashboard can say why builds stopped signing.
 * https://developer.apple.com/documentation/appstoreconnectapi/get-v1-certificates
 * https://developer.apple.com/documentation/appstoreconnectapi/get-v1-profiles
 */
async function listTeamSigning(clients: AscClients, key: ApiKey, keys: SigningKeys): Promise<SigningCertificateView[]> {
  const client = clients.for(key);
  try {
    const held = new Set(await keys.ids());
    const certs = await listCertificates(client);
    const profiles = await listProfilesWithIdentifiers(client);
    const views: SigningCertificateView[] = certs.map((c) => ({
      certificateId: c.id,
      certificateType: c.attributes?.certificateType ?? null,
      serialNumber: c.attributes?.serialNumber ?? null,
      expirationDate: c.attributes?.expirationDate ?? null,
      keyHeld: held.has(c.id),
      listedByApple: true,
      profiles: profiles
        .filter(({ profile }) => {
          const linked = profile.relationships?.certificates?.data;
          return Array.isArray(linked) && linked.some((l) => l.id === c.id);
        })
        .map(({ profile, bundleIdentifier }) => ({
          id: profile.id,
          name: profile.attributes?.name ?? null,
          bundleId: bundleIdentifier,
          profileState: profile.attributes?.profileState ?? null,
          expirationDate: profile.attributes?.expirationDate ?? null,
        })),
    }));
    const listed = new Set(certs.map((c) => c.id));
    for (const id of [...held].filter((h) => !listed.has(h))) {
      const h = await keys.get(id);
      views.push({
        certificateId: id,
        certificateType: h?.certificateType ?? null,
        serialNumber: h?.serialNumber ?? null,
        expirationDate: h?.expirationDate ?? null,
        keyHeld: true,
        listedByApple: false,
        profiles: [],
      });
    }
    return views;
  } catch (err) {
    throw explainForbidden(err);
  }
}

/** Signing through src/signing with the process's client for the key (its token and rate budget). */
export function ascSigning(clients: AscClients, clock: Clock): SigningGateway {
  return {
    list: (key, keys) => listTeamSigning(clients, key, keys),
    async ensure(key, keys, o): Promise<SigningEnsureSummary> {
      const r = await ensureSigning({
        client: clients.for(key),
        keys,
        clock,
        bundleIdentifier: o.bundleIdentifier,
        renewWithinDays: o.renewWithinDays,
        individualKey: isIndividualKey(key),
        onWarning: o.onWarning,
      });
      // Only public facts leave here: the held key and the profile's content stay behind.
      return {
        bundleId: r.bundleId,
        certificate: r.certificate,
        profile: r.profile,
        changes: r.changes,
        revokedHeld: r.revokedHeld,
      };
    },
    revoke: (key, keys, id) => revokeSigning(clients.for(key), keys, id),
  };
}
