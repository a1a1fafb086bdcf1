import { inspectIpa } from '../../ipa/inspect.js';
import { preflight } from '../../ipa/preflight.js';
import type { ArtifactInspector } from '../api/context.js';

/**
 * The ArtifactInspector over src/ipa: the same inspection and preflight as `ascend ipa inspect`, so a
 * hostile archive gets the CLI's errors (thrown, and the upload is deleted by the route). The server's
 * own path is replaced by the uploaded name in the facts, so answers never reveal the data folder.
 */
export function ipaInspector(now: () => Date, extraTrustedRoots: readonly string[] = []): ArtifactInspector {
  return async (path, filename) => {
    const facts = await inspectIpa(path, { extraTrustedRoots });
    const findings = preflight(facts, { now: now(), target: 'app-store' });
    return { facts: { ...facts, file: filename }, findings };
  };
}
