import { AscApiError } from '../../asc/http/errors.js';
import { listApps } from '../../asc/resources/apps.js';
import { listBetaGroups } from '../../asc/resources/beta-groups.js';
import { listBuilds } from '../../asc/resources/builds.js';
import type { Platform } from '../../asc/resources/common.js';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import type { ApiKey } from '../../credentials/types.js';
import { isIndividualKey } from '../../credentials/types.js';
import { runChecks } from '../../doctor/checks/index.js';
import { gatherFacts } from '../../doctor/gather.js';
import { nextBuildNumber } from '../../release/build-number.js';
import type { AppleGateway } from '../api/context.js';
import type { AscClients } from './clients.js';
import { ascSigning } from './signing.js';
import { ascWebhooks } from './webhooks.js';

/** Apple's UserRole names for what the probes can tell apart. */
export type InferredRole = 'ADMIN' | 'APP_MANAGER' | 'DEVELOPER';

/**
 * Apple does not expose a key's role through the API, so, as `ascend keys check` does, the role is
 * inferred from read-only probes that roles answer differently: only Admin keys may list users, and
 * Developer-or-narrower keys may not read bundle IDs. A 403 for a missing agreement is not a role answer.
 * https://developer.apple.com/documentation/appstoreconnectapi/get-v1-users
 * https://developer.apple.com/documentation/appstoreconnectapi/get-v1-bundleids
 */
async function allowed(clients: AscClients, key: ApiKey, path: string): Promise<boolean> {
  try {
    await clients.for(key).request({ method: 'GET', path, query: { limit: 1 } });
    return true;
  } catch (err) {
    if (err instanceof AscApiError && err.status === 403 && !err.isAgreementMissing) return false;
    throw err;
  }
}

/** The AppleGateway over src/asc: real calls, one client (token, rate budget) per key for the process. */
export function ascGateway(clients: AscClients, clock: Clock = systemClock): AppleGateway {
  return {
    signing: ascSigning(clients, clock),
    webhooks: ascWebhooks(clients),
    /** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-apps (proves the key works) */
    async checkKey(key: ApiKey) {
      await listApps(clients.for(key), { maxItems: 1 });
      if (await allowed(clients, key, '/v1/users')) return { role: 'ADMIN' satisfies InferredRole };
      // Apple refuses provisioning to individual keys outright, whatever their role.
      if (!isIndividualKey(key) && (await allowed(clients, key, '/v1/bundleIds')))
        return { role: 'APP_MANAGER' satisfies InferredRole };
      return { role: 'DEVELOPER' satisfies InferredRole };
    },
    /** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-apps */
    async listApps(key: ApiKey) {
      const apps = await listApps(clients.for(key), { maxItems: 1000 });
      return apps.map((a) => ({
        ascAppId: a.id,
        bundleId: a.attributes?.bundleId ?? '',
        name: a.attributes?.name ?? '',
      }));
    },
    /** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-betagroups */
    async listGroups(key: ApiKey, appId: string) {
      const groups = await listBetaGroups(clients.for(key), { appId });
      return groups.map((g) => ({
        id: g.id,
        name: g.attributes?.name ?? '',
        isInternalGroup: g.attributes?.isInternalGroup ?? false,
      }));
    },
    /** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-builds */
    async listBuilds(key: ApiKey, appId: string, limit: number) {
      const { builds } = await listBuilds(clients.for(key), { appId, maxItems: limit });
      return builds.map((b) => ({
        id: b.id,
        buildNumber: b.attributes?.version ?? '',
        processingState: b.attributes?.processingState ?? null,
        uploadedDate: b.attributes?.uploadedDate ?? null,
      }));
    },
    /**
     * The doctor's reads for the key, judged by its checks; "now" is Apple's `Date` header, as for the CLI.
     * https://developer.apple.com/documentation/appstoreconnectapi/get-v1-certificates
     */
    async findings(key: ApiKey, heldCertificateIds: () => Promise<string[]>) {
      const facts = await gatherFacts({
        client: clients.for(key),
        key: { keyId: key.keyId, individual: isIndividualKey(key) },
        heldCertificateIds,
        clock,
      });
      return runChecks(facts);
    },
    /** Builds and live uploads of the train: release/build-number.ts reads both. */
    async buildNumbersInUse(key: ApiKey, train: { appId: string; version: string; platform: string }) {
      const report = await nextBuildNumber(clients.for(key), train.appId, train.version, train.platform as Platform);
      return report.used.map((u) => u.buildNumber);
    },
  };
}
