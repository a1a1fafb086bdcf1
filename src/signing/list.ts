import type { AscClient } from '../asc/http/client.js';
import { AscApiError } from '../asc/http/errors.js';
import { type Certificate, listCertificates, revokeCertificate } from '../asc/resources/certificates.js';
import { listProfiles } from '../asc/resources/profiles.js';
import { AscendError } from '../core/errors.js';
import { explainForbidden } from './ensure.js';
import type { SigningKeys } from './key-store.js';

export interface SigningInventory {
  certificates: {
    id: string;
    name: string | null;
    certificateType: string | null;
    serialNumber: string | null;
    expirationDate: string | null;
    keyHeld: boolean;
  }[];
  profiles: {
    id: string;
    name: string | null;
    profileType: string | null;
    profileState: string | null;
    uuid: string | null;
    expirationDate: string | null;
    bundleId: string | null;
  }[];
}

/** `signing list`: the team's certificates (and which keys this machine holds) and profiles, with expiry. */
export async function listSigning(client: AscClient, keys: SigningKeys): Promise<SigningInventory> {
  try {
    const held = new Set(await keys.ids());
    const certs: Certificate[] = await listCertificates(client);
    const profiles = await listProfiles(client);
    return {
      certificates: certs.map((c) => ({
        id: c.id,
        name: c.attributes?.name ?? null,
        certificateType: c.attributes?.certificateType ?? null,
        serialNumber: c.attributes?.serialNumber ?? null,
        expirationDate: c.attributes?.expirationDate ?? null,
        keyHeld: held.has(c.id),
      })),
      profiles: profiles.map((p) => {
        const b = p.relationships?.bundleId?.data;
        return {
          id: p.id,
          name: p.attributes?.name ?? null,
          profileType: p.attributes?.profileType ?? null,
          profileState: p.attributes?.profileState ?? null,
          uuid: p.attributes?.uuid ?? null,
          expirationDate: p.attributes?.expirationDate ?? null,
          bundleId: b && !Array.isArray(b) ? b.id : null,
        };
      }),
    };
  } catch (err) {
    throw explainForbidden(err);
  }
}

/**
 * `signing revoke CERT_ID`: revokes at Apple, then forgets the key held here. A certificate Apple does not
 * know (already revoked, or another team's) is a clear not-found, and nothing is removed locally.
 */
export async function revokeSigning(
  client: AscClient,
  keys: SigningKeys,
  id: string,
): Promise<{ id: string; keyRemoved: boolean }> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id))
    throw new AscendError('USAGE', `"${id}" is not a certificate id`, {
      remedy: 'Copy the ID column of `ascend signing list`.',
    });
  try {
    await revokeCertificate(client, id);
  } catch (err) {
    if (err instanceof AscApiError && err.status === 404)
      throw new AscendError(
        'SIGNING_CERTIFICATE_NOT_FOUND',
        `no certificate ${id} exists (it may already be revoked)`,
        {
          cause: err,
        },
      );
    throw explainForbidden(err);
  }
  return { id, keyRemoved: await keys.remove(id) };
}
