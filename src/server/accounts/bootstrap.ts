import type { StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import { createApiToken } from './api-tokens.js';
import { createSignInLink } from './sign-in-links.js';
import { createTeam, createUser, type Team, type User } from './teams.js';

export interface FirstAdmin {
  team: Team;
  user: User;
  /** For the "Sign in:" line: `<public-url>/sign-in#<token>`. Single use, short-lived. */
  signInToken: string;
  /** Only when asked for (`--write-admin-token`): an owner API token, shown this once. */
  apiToken?: string;
  created: boolean;
}

/**
 * Start-up's first admin (DESIGN §3.1): on an empty database, a team and its owner; on later starts, the
 * earliest owner. Either way a fresh one-time sign-in link, and an API token when asked for.
 */
export async function ensureFirstAdmin(
  store: Store,
  deps: StoreDeps,
  opts: { email?: string; teamName?: string; apiToken?: boolean } = {},
): Promise<FirstAdmin> {
  const existing = await store.db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .innerJoin('teams', 'teams.id', 'memberships.team_id')
    .select([
      'users.id as userId',
      'users.email',
      'users.name as userName',
      'users.created_at as userCreated',
      'teams.id as teamId',
      'teams.name as teamName',
      'teams.created_at as teamCreated',
    ])
    .where('memberships.role', '=', 'owner')
    .orderBy('memberships.created_at')
    .orderBy('users.id')
    .executeTakeFirst();
  let team: Team;
  let user: User;
  let created = false;
  if (existing) {
    team = { id: existing.teamId, name: existing.teamName, createdAt: existing.teamCreated };
    user = {
      id: existing.userId,
      email: existing.email,
      name: existing.userName,
      createdAt: existing.userCreated,
      disabled: false,
    };
  } else {
    team = await createTeam(store, deps, opts.teamName ?? 'My team');
    user = await createUser(store, deps, { email: opts.email ?? 'admin@localhost', name: 'Admin' });
    await store.db
      .insertInto('memberships')
      .values({ team_id: team.id, user_id: user.id, role: 'owner', created_at: team.createdAt })
      .execute();
    created = true;
  }
  const link = await createSignInLink(store, deps, user.id);
  const result: FirstAdmin = { team, user, signInToken: link.token, created };
  if (opts.apiToken) {
    result.apiToken = (
      await createApiToken(store, deps, team.id, { name: 'admin (start-up)', role: 'owner', createdBy: user.id })
    ).token;
  }
  return result;
}
