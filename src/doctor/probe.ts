import type { AscClient } from '../asc/http/client.js';
import { AscApiError } from '../asc/http/errors.js';

export interface RoleProbe {
  /** `Admin`, `App Manager` or `Developer or narrower`: inferred, Apple does not say. */
  role: string;
  canManageUsers: boolean;
  canProvision: boolean;
}

/** A read that a role may refuse: true when allowed, false on the role 403; anything else is thrown. */
async function allowed(client: AscClient, path: string): Promise<boolean> {
  try {
    await client.request({ method: 'GET', path, query: { limit: 1 } });
    return true;
  } catch (err) {
    // The agreement 403 is not about the role: it stops everything, so it goes up to the caller.
    if (err instanceof AscApiError && err.status === 403 && !err.isAgreementMissing) return false;
    throw err;
  }
}

/**
 * What a key may do. Apple does not expose a key's role through the API, so it is inferred from read-only
 * probes that roles answer differently: only Admin reads users
 * (https://developer.apple.com/documentation/appstoreconnectapi/get-v1-users), App Manager and Admin read
 * bundle IDs (https://developer.apple.com/documentation/appstoreconnectapi/get-v1-bundleids), and individual
 * keys are refused the provisioning API outright, so that probe is not sent for them.
 */
export async function probeRole(client: AscClient, individual: boolean): Promise<RoleProbe> {
  const canManageUsers = await allowed(client, '/v1/users');
  const canProvision = individual ? false : await allowed(client, '/v1/bundleIds');
  const role = canManageUsers ? 'Admin' : canProvision ? 'App Manager' : 'Developer or narrower';
  return { role, canManageUsers, canProvision };
}
