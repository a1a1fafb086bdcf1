import { AscendError } from '../../core/errors.js';
import { isoTime, newId, type StoreDeps } from '../store/ids.js';
import { isUniqueViolation, type Store } from '../store/open.js';
import { ROLES, type Role } from '../store/schema.js';

export interface Team {
  id: string;
  name: string;
  createdAt: string;
}

export interface User {
  id: string;
  email: string;
  name: string;
  createdAt: string;
  disabled: boolean;
}

export interface Membership {
  teamId: string;
  userId: string;
  role: Role;
}

export function assertRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new AscendError('USAGE', `role ${JSON.stringify(role.slice(0, 40))} is not one of ${ROLES.join(', ')}`, {
      remedy: `Use one of the roles ${ROLES.join(', ')}.`,
    });
  }
  return role as Role;
}

export async function createTeam(store: Store, deps: StoreDeps, name: string): Promise<Team> {
  const row = { id: newId('team', deps.randomBytes), name, created_at: isoTime(deps.clock.now()) };
  await store.db.insertInto('teams').values(row).execute();
  return { id: row.id, name, createdAt: row.created_at };
}

/** E-mail addresses compare case-insensitively; the stored form is trimmed and lower-cased. */
export function normaliseEmail(email: string): string {
  const e = email.trim().toLowerCase();
  if (e.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(e)) {
    throw new AscendError('USAGE', 'the e-mail address is not valid', {
      remedy: 'Use an address like name@example.com.',
    });
  }
  return e;
}

export async function createUser(
  store: Store,
  deps: StoreDeps,
  input: { email: string; name: string; passwordHash?: string | null },
): Promise<User> {
  const row = {
    id: newId('usr', deps.randomBytes),
    email: normaliseEmail(input.email),
    name: input.name,
    password_hash: input.passwordHash ?? null,
    created_at: isoTime(deps.clock.now()),
    disabled_at: null,
  };
  try {
    await store.db.insertInto('users').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AscendError('RESOURCE_EXISTS', `a user with this e-mail address exists`);
    throw err;
  }
  return { id: row.id, email: row.email, name: row.name, createdAt: row.created_at, disabled: false };
}

export async function findUserByEmail(
  store: Store,
  email: string,
): Promise<(User & { passwordHash: string | null }) | undefined> {
  const row = await store.db
    .selectFrom('users')
    .selectAll()
    .where('email', '=', email.trim().toLowerCase())
    .executeTakeFirst();
  return row && { ...userOf(row), passwordHash: row.password_hash };
}

export async function getUser(store: Store, id: string): Promise<User | undefined> {
  const row = await store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row && userOf(row);
}

export async function setPasswordHash(store: Store, userId: string, hash: string): Promise<void> {
  await store.db.updateTable('users').set({ password_hash: hash }).where('id', '=', userId).execute();
}

function userOf(row: {
  id: string;
  email: string;
  name: string;
  created_at: string;
  disabled_at: string | null;
}): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    createdAt: row.created_at,
    disabled: row.disabled_at !== null,
  };
}

/** Adds a member or changes the role of an existing one. */
export async function setMembership(store: Store, deps: StoreDeps, m: Membership): Promise<void> {
  const role = assertRole(m.role);
  await store.db
    .insertInto('memberships')
    .values({ team_id: m.teamId, user_id: m.userId, role, created_at: isoTime(deps.clock.now()) })
    .onConflict((oc) => oc.columns(['team_id', 'user_id']).doUpdateSet({ role }))
    .execute();
}

export async function removeMembership(store: Store, teamId: string, userId: string): Promise<boolean> {
  const res = await store.db
    .deleteFrom('memberships')
    .where('team_id', '=', teamId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** The member's role in this team, or undefined: another team's member is simply not found. */
export async function roleIn(store: Store, teamId: string, userId: string): Promise<Role | undefined> {
  const row = await store.db
    .selectFrom('memberships')
    .select('role')
    .where('team_id', '=', teamId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.role;
}

export async function teamsOf(store: Store, userId: string): Promise<(Team & { role: Role })[]> {
  const rows = await store.db
    .selectFrom('memberships')
    .innerJoin('teams', 'teams.id', 'memberships.team_id')
    .select(['teams.id', 'teams.name', 'teams.created_at', 'memberships.role'])
    .where('memberships.user_id', '=', userId)
    .orderBy('teams.created_at')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, role: r.role }));
}

export async function membersOf(store: Store, teamId: string): Promise<(User & { role: Role })[]> {
  const rows = await store.db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .selectAll('users')
    .select('memberships.role')
    .where('memberships.team_id', '=', teamId)
    .orderBy('users.email')
    .execute();
  return rows.map((r) => ({ ...userOf(r), role: r.role }));
}

/** Roles in order of power: a check asks for at least one of them. */
const RANK: Record<Role, number> = { viewer: 0, releaser: 1, admin: 2, owner: 3 };
export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}
