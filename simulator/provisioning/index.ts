import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../src/core/clock.js';
import type { Store } from '../store.js';
import type { WriteHandler } from '../write-helpers.js';
import { type Ca, loadOrCreateCa } from './ca.js';
import { type CertificateLimits, certificateWrites } from './certificates.js';
import { identifierWrites } from './identifiers.js';
import { profileWrites, refreshProfileStates } from './profiles.js';

export interface ProvisioningOptions {
  limits?: Partial<CertificateLimits>;
}

export interface Provisioning {
  /** The CA, made on first use. */
  ca(): Ca;
}

/**
 * Provisioning in the simulator (bundle IDs, capabilities, certificates, profiles, devices): adds the write
 * handlers to the router's table, keeps profile states current by the simulator's clock before every
 * request, and serves the CA's root (`GET /__sim/provisioning/ca`) so tests and clients can trust it as an
 * extra root. Reads are served by the generic JSON:API reader from the same store.
 */
export function registerProvisioning(
  app: FastifyInstance,
  deps: { store: Store; clock: Clock },
  writes: Record<string, WriteHandler>,
  options: ProvisioningOptions = {},
): Provisioning {
  let ca: Ca | undefined;
  const getCa = () => {
    ca ??= loadOrCreateCa(deps.store, deps.clock);
    return ca;
  };
  const teamName = (id: string) => deps.store.teams.get(id)?.name ?? id;
  Object.assign(
    writes,
    identifierWrites,
    certificateWrites(getCa, { distribution: 3, ...options.limits }, teamName),
    profileWrites(getCa, teamName),
  );
  app.addHook('onRequest', async (req) => {
    // Only API requests read profiles; upload part PUTs and /__sim routes skip the walk.
    if (req.url.startsWith('/v1/') && refreshProfileStates(deps.store, deps.clock.now())) deps.store.save();
  });
  app.get('/__sim/provisioning/ca', async () => {
    const c = getCa();
    return { rootCertificatePem: c.material.rootPem, rootSha256Fingerprint: c.rootFingerprint };
  });
  return { ca: getCa };
}
