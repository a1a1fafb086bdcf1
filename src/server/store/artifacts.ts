import { AscendError } from '../../core/errors.js';
import { isoTime, newId, type StoreDeps } from './ids.js';
import { readJson } from './json.js';
import type { Store } from './open.js';
import type { ArtifactsTable } from './schema.js';

/** An uploaded build: the file lives in the artifact store by SHA-256; this row holds what inspection found. */
export interface ArtifactRecord {
  id: string;
  teamId: string;
  sha256: string;
  size: number;
  filename: string;
  /** Shaped as `ipa inspect --json` facts. */
  facts: unknown;
  findings: unknown[];
  createdBy: string | null;
  createdAt: string;
}

function recordOf(r: ArtifactsTable): ArtifactRecord {
  return {
    id: r.id,
    teamId: r.team_id,
    sha256: r.sha256,
    // bigint: pg answers a string.
    size: Number(r.size),
    filename: r.filename,
    facts: readJson(r.facts, `facts of artifact ${r.id}`),
    findings: readJson(r.findings, `findings of artifact ${r.id}`),
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

export async function createArtifact(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  input: {
    sha256: string;
    size: number;
    filename: string;
    facts: unknown;
    findings: unknown[];
    createdBy?: string | null;
  },
): Promise<ArtifactRecord> {
  if (!/^[0-9a-f]{64}$/.test(input.sha256)) throw new AscendError('INTERNAL', 'an artifact digest is not SHA-256 hex');
  const row: ArtifactsTable = {
    id: newId('art', deps.randomBytes),
    team_id: teamId,
    sha256: input.sha256,
    size: input.size,
    // The name is shown back to people: keep it short and free of control characters.
    filename: input.filename.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 255),
    facts: JSON.stringify(input.facts),
    findings: JSON.stringify(input.findings),
    created_by: input.createdBy ?? null,
    created_at: isoTime(deps.clock.now()),
  };
  await store.db.insertInto('artifacts').values(row).execute();
  return recordOf(row);
}

export async function getArtifact(store: Store, teamId: string, id: string): Promise<ArtifactRecord> {
  const r = await store.db
    .selectFrom('artifacts')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!r) throw new AscendError('RESOURCE_NOT_FOUND', `artifact ${id} was not found in this team`);
  return recordOf(r);
}

/** The team's newest artifact with this content, to answer a repeated upload without storing it twice. */
export async function findArtifactBySha(
  store: Store,
  teamId: string,
  sha256: string,
): Promise<ArtifactRecord | undefined> {
  const r = await store.db
    .selectFrom('artifacts')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('sha256', '=', sha256)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return r && recordOf(r);
}
