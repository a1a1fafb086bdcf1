import { appStoreWrites } from './appstore-writes.js';
import { BETA_GROUP_WRITES } from './beta-groups.js';
import { BETA_TESTER_WRITES } from './beta-testers.js';
import type { ServerDeps } from './server-deps.js';
import { testflightWrites } from './testflight-writes.js';
import { commitFile, reserveFile } from './upload-files.js';
import type { WriteHandler } from './write-helpers.js';
import { WRITES } from './writes.js';

/** Every simulated write operation by "METHOD /template"; an operation missing here answers 501. */
export function writeHandlers(deps: Pick<ServerDeps, 'uploads'>): Record<string, WriteHandler> {
  return {
    ...WRITES,
    ...BETA_GROUP_WRITES,
    ...BETA_TESTER_WRITES,
    ...testflightWrites(deps.uploads.reviewMs),
    ...appStoreWrites(deps.uploads.reviewMs),
    'POST /v1/buildUploadFiles': reserveFile(deps.uploads),
    'PATCH /v1/buildUploadFiles/{id}': commitFile(deps.uploads),
  };
}
