import type { Kysely } from 'kysely';
import type { Store } from './open.js';
import type { Database } from './schema.js';

/**
 * Tables of migration 006 (multi-server coordination). Kept beside schema.ts rather than in it, and
 * reached through `scaleDb()`, so the queue and worker code that uses them stays in one place.
 */
export interface QueueLeasesTable {
  job_id: string;
  kind: string;
  worker: string;
  expires_at: string;
}

export interface DeployCancelRequestsTable {
  deploy_id: string;
  team_id: string;
  requested_at: string;
}

export interface KeySlotsTable {
  key_ref: string;
  holder: string;
  expires_at: string;
}

export interface RateBudgetsTable {
  key_id: string;
  hour_limit: number | null;
  remaining: number | null;
  reported_at: string | null;
  backoff_until: string | null;
}

export type ScaleTables = {
  queue_leases: QueueLeasesTable;
  deploy_cancel_requests: DeployCancelRequestsTable;
  key_slots: KeySlotsTable;
  rate_budgets: RateBudgetsTable;
};

export type ScaleDb = Kysely<Database & ScaleTables>;

export function scaleDb(store: Store): ScaleDb {
  return store.db.withTables<ScaleTables>();
}
