import type { Clock } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import type { StateStore } from '../../core/state.js';
import { isoTime } from './ids.js';
import type { Store } from './open.js';

/**
 * The server's StateStore (DESIGN §2): a deploy's or job's resumable step state in the step_state table, one
 * row per (scope, key), so a worker on another machine resumes where a killed one stopped.
 */
export class DbStateStore implements StateStore {
  constructor(
    private readonly store: Store,
    /** The deploy or job id the state belongs to. */
    readonly scope: string,
    private readonly clock: Clock,
  ) {}

  async get<T>(key: string): Promise<T | undefined> {
    const row = await this.store.db
      .selectFrom('step_state')
      .select('value')
      .where('scope', '=', this.scope)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) return undefined;
    try {
      return JSON.parse(row.value) as T;
    } catch (cause) {
      throw new AscendError('STATE_FILE_INVALID', `the saved step state ${JSON.stringify(key)} is damaged`, {
        cause,
        remedy: 'Retry the deploy from the start; its saved progress cannot be read.',
      });
    }
  }

  async put<T>(key: string, value: T): Promise<void> {
    // JSON.stringify(undefined) is undefined; store null instead so the row stays valid JSON.
    const text = JSON.stringify(value) ?? 'null';
    const updated_at = isoTime(this.clock.now());
    await this.store.db
      .insertInto('step_state')
      .values({ scope: this.scope, key, value: text, updated_at })
      .onConflict((oc) => oc.columns(['scope', 'key']).doUpdateSet({ value: text, updated_at }))
      .execute();
  }

  async delete(key: string): Promise<void> {
    await this.store.db.deleteFrom('step_state').where('scope', '=', this.scope).where('key', '=', key).execute();
  }

  /** Forgets everything a finished deploy or job kept. */
  async clear(): Promise<void> {
    await this.store.db.deleteFrom('step_state').where('scope', '=', this.scope).execute();
  }
}
