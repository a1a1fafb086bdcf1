import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { ArtifactFiles } from '../store/artifact-files.js';
import { createArtifact, findArtifactBySha } from '../store/artifacts.js';
import type { StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';

/**
 * Where a build step's artifact goes. In the server's own worker it is stored directly (below); a remote
 * `ascend worker` implements the same call as an upload to POST /api/v1/worker/jobs/:jobId/artifact.
 */
export interface ArtifactSink {
  /**
   * Stores, inspects and records the file for the team; returns the artifact's id. `jobId`: the build job's;
   * `signal`: the build's cancel or the worker's stop, which ends an upload in flight.
   */
  store(teamId: string, file: string, jobId: string, signal?: AbortSignal): Promise<string>;
}

export interface LocalArtifactDeps {
  store: Store;
  deps: StoreDeps;
  files: ArtifactFiles;
  maxBytes: number;
  inspect: (path: string, filename: string) => Promise<{ facts: unknown; findings: unknown[] }>;
}

/** The same path as POST /api/v1/artifacts: digest-named file, inspection on arrival, one row per team and digest. */
export function localArtifactSink(a: LocalArtifactDeps): ArtifactSink {
  return {
    async store(teamId, file) {
      const filename = basename(file)
        .replace(/[\u0000-\u001f\u007f]/g, '?')
        .slice(0, 255);
      const { sha256, size } = await a.files.put(createReadStream(file), a.maxBytes);
      const existing = await findArtifactBySha(a.store, teamId, sha256);
      if (existing) return existing.id;
      let inspected: Awaited<ReturnType<LocalArtifactDeps['inspect']>>;
      try {
        inspected = await a.inspect(a.files.pathOf(sha256), filename);
      } catch (err) {
        await a.files.remove(sha256); // a broken archive is not kept: no deploy may use it
        throw err;
      }
      const art = await createArtifact(a.store, a.deps, teamId, { sha256, size, filename, ...inspected });
      return art.id;
    },
  };
}
