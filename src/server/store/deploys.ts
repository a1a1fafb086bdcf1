import { AscendError } from '../../core/errors.js';
import { isoTime, newId, type StoreDeps } from './ids.js';
import { decodeCursor, encodeCursor, pageSize, readJson } from './json.js';
import type { Store } from './open.js';
import type { DeployState, DeploysTable } from './schema.js';

export interface DeployStep {
  step: string;
  status: string;
  detail?: string | null;
  startedAt?: string | null;
  endedAt?: string | null;
  /** The build step's exit code and run time (docs/SERVER.md, "Build steps"). */
  exitCode?: number | null;
  durationMs?: number;
}

/** A deploy as the API shows it (DESIGN §3.5). */
export interface DeployRecord {
  id: string;
  teamId: string;
  artifactId: string | null;
  keyRef: string | null;
  state: DeployState;
  options: Record<string, unknown>;
  steps: DeployStep[];
  error: { code: string; message: string; remedy?: string } | null;
  progress: number;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  endedAt: string | null;
  /** The build step it starts with, if any (worker/build-spec.ts StoredBuild); env values are in the vault. */
  build: Record<string, unknown> | null;
  buildEnvRef: string | null;
}

const TERMINAL: readonly DeployState[] = ['succeeded', 'failed', 'cancelled'];

function recordOf(r: DeploysTable): DeployRecord {
  return {
    id: r.id,
    teamId: r.team_id,
    artifactId: r.artifact_id,
    keyRef: r.key_ref,
    state: r.state,
    options: readJson(r.options, `options of deploy ${r.id}`),
    steps: readJson(r.steps, `steps of deploy ${r.id}`),
    error: r.error === null ? null : readJson(r.error, `error of deploy ${r.id}`),
    progress: Number(r.progress),
    createdBy: r.created_by,
    createdAt: r.created_at,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    endedAt: r.ended_at,
    build: r.build ? readJson(r.build, `build of deploy ${r.id}`) : null,
    buildEnvRef: r.build_env_ref ?? null,
  };
}

export async function createDeploy(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  input: {
    artifactId?: string | null;
    keyRef?: string | null;
    options: Record<string, unknown>;
    createdBy?: string | null;
    build?: Record<string, unknown> | null;
    buildEnvRef?: string | null;
    steps?: DeployStep[];
  },
): Promise<DeployRecord> {
  const now = isoTime(deps.clock.now());
  const row: DeploysTable = {
    id: newId('dep', deps.randomBytes),
    team_id: teamId,
    artifact_id: input.artifactId ?? null,
    key_ref: input.keyRef ?? null,
    state: 'queued',
    options: JSON.stringify(input.options),
    steps: JSON.stringify(input.steps ?? []),
    error: null,
    progress: 0,
    created_by: input.createdBy ?? null,
    created_at: now,
    started_at: null,
    updated_at: now,
    ended_at: null,
    // Only set when present, so a deploy without a build writes the same row as before migration 008.
    ...(input.build ? { build: JSON.stringify(input.build), build_env_ref: input.buildEnvRef ?? null } : {}),
  };
  await store.db.insertInto('deploys').values(row).execute();
  return recordOf(row);
}

export async function getDeploy(store: Store, teamId: string, id: string): Promise<DeployRecord> {
  const r = await store.db
    .selectFrom('deploys')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!r) throw new AscendError('RESOURCE_NOT_FOUND', `deploy ${id} was not found in this team`);
  return recordOf(r);
}

/** Newest first, by keyset on (created_at, id) so a page costs the same at any depth. */
export async function listDeploys(
  store: Store,
  teamId: string,
  opts: { limit?: number; cursor?: string | null; state?: DeployState } = {},
): Promise<{ data: DeployRecord[]; next: string | null }> {
  const limit = pageSize(opts.limit);
  let q = store.db.selectFrom('deploys').selectAll().where('team_id', '=', teamId);
  if (opts.state) q = q.where('state', '=', opts.state);
  if (opts.cursor) {
    const [at, id] = decodeCursor(opts.cursor, 2) as [string, string];
    // A row-value comparison lets both databases walk the (team_id, created_at, id) index from the cursor.
    q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(at, id)));
  }
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    data: page.map(recordOf),
    next: rows.length > limit && last ? encodeCursor([last.created_at, last.id]) : null,
  };
}

export interface DeployPatch {
  state?: DeployState;
  steps?: DeployStep[];
  error?: DeployRecord['error'];
  progress?: number;
  /** The artifact a build step made. */
  artifactId?: string;
  /** The stored options as a whole (the retry route bumps their run generation, worker/deploy-job.ts). */
  options?: Record<string, unknown>;
}

/**
 * Changes a deploy only if it is still in one of `from` (compare-and-set), so a cancel and a worker's
 * progress cannot overwrite each other unseen; DEPLOY_STATE_CONFLICT otherwise. Start and end times are set
 * on the first move to running and to a final state.
 */
export async function updateDeploy(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  id: string,
  patch: DeployPatch,
  from: readonly DeployState[],
): Promise<DeployRecord> {
  const now = isoTime(deps.clock.now());
  const set: Partial<DeploysTable> = { updated_at: now };
  if (patch.state) set.state = patch.state;
  if (patch.steps) set.steps = JSON.stringify(patch.steps);
  if (patch.artifactId) set.artifact_id = patch.artifactId;
  if (patch.options) set.options = JSON.stringify(patch.options);
  if (patch.error !== undefined) set.error = patch.error === null ? null : JSON.stringify(patch.error);
  if (patch.progress !== undefined) set.progress = Math.min(Math.max(patch.progress, 0), 1);
  const res = await store.db
    .updateTable('deploys')
    .set((eb) => ({
      ...set,
      ...(patch.state === 'running' ? { started_at: eb.fn.coalesce('started_at', eb.val(now)) } : {}),
      ...(patch.state && TERMINAL.includes(patch.state) ? { ended_at: now } : {}),
    }))
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .where('state', 'in', [...from])
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) {
    const current = await getDeploy(store, teamId, id);
    throw new AscendError('DEPLOY_STATE_CONFLICT', `deploy ${id} is ${current.state}, not ${from.join(' or ')}`);
  }
  return getDeploy(store, teamId, id);
}

export interface DeployEvent {
  seq: number;
  type: string;
  data: unknown;
  createdAt: string;
}

/** Appends an event for Server-Sent Events; its seq is the event id a reconnecting client sends back. */
export async function appendDeployEvent(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  deployId: string,
  type: string,
  data: unknown,
): Promise<number> {
  const row = await store.db
    .insertInto('deploy_events')
    .values({
      deploy_id: deployId,
      team_id: teamId,
      type,
      data: JSON.stringify(data),
      created_at: isoTime(deps.clock.now()),
    })
    .returning('seq')
    .executeTakeFirstOrThrow();
  return Number(row.seq);
}

/** Events after `afterSeq` (Last-Event-ID), oldest first. */
export async function listDeployEvents(
  store: Store,
  teamId: string,
  deployId: string,
  opts: { afterSeq?: number; limit?: number } = {},
): Promise<DeployEvent[]> {
  const rows = await store.db
    .selectFrom('deploy_events')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('deploy_id', '=', deployId)
    .where('seq', '>', opts.afterSeq ?? 0)
    .orderBy('seq')
    .limit(Math.min(Math.max(opts.limit ?? 500, 1), 1000))
    .execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    type: r.type,
    data: readJson(r.data, 'deploy event'),
    createdAt: r.created_at,
  }));
}
