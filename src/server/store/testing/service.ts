import type { FastifyInstance } from 'fastify';
import { createApiToken } from '../../accounts/api-tokens.js';
import type { StoreDeps } from '../ids.js';
import type { Store, StoreLocation } from '../open.js';
import type { Role } from '../schema.js';

/** Test helpers for whole-service tests: the same three pieces every one of them needs. */

export type Headers = Record<string, string>;

/** The `--database-url` that opens a test's store location (a SQLite file, or a PostgreSQL schema). */
export function databaseUrlOf(loc: StoreLocation): string {
  return loc.dialect === 'sqlite' ? `sqlite:${loc.path}` : `${loc.url}?schema=${loc.schema}`;
}

/** `inject()` that keeps every answer's body, so a test can search them all for secrets afterwards. */
export function recordingCall(app: () => FastifyInstance, bodies: string[]) {
  return async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, headers: Headers, payload?: unknown) => {
    const res = await app().inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    bodies.push(res.body);
    return res;
  };
}

/** Bearer headers of a new API token with `role` in `teamId`. */
export async function bearerFor(store: Store, deps: StoreDeps, teamId: string, role: Role): Promise<Headers> {
  const { token } = await createApiToken(store, deps, teamId, { name: role, role });
  return { authorization: `Bearer ${token}` };
}
