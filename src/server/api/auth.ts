import type { FastifyReply, FastifyRequest } from 'fastify';
import { AscendError } from '../../core/errors.js';
import { verifyApiToken } from '../accounts/api-tokens.js';
import { resolveSession, type Session } from '../accounts/sessions.js';
import { csrfMatches } from '../accounts/sign-in.js';
import { roleAtLeast, roleIn, teamsOf } from '../accounts/teams.js';
import type { StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import type { Role } from '../store/schema.js';

export const SESSION_COOKIE = 'ascend_session';
export const CSRF_HEADER = 'x-csrf-token';
export const TEAM_HEADER = 'x-ascend-team';

/** Who is asking, for which team, with which role. Every route reads the team from here, never from input. */
export interface Principal {
  kind: 'session' | 'token';
  userId: string | null;
  tokenId: string | null;
  teamId: string;
  role: Role;
  session?: Session;
}

/** The cookie's value, from a header of bounded size (a hostile client can send anything). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function bearer(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S{1,200})$/i.exec(header.trim()) : null;
  return m?.[1];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session's principal: team from the header (if a member) or the first team; CSRF checked on writes. */
async function fromSession(store: Store, deps: StoreDeps, req: FastifyRequest, token: string): Promise<Principal> {
  const { session, user } = await resolveSession(store, deps, token);
  if (!SAFE_METHODS.has(req.method) && !csrfMatches(session, header(req, CSRF_HEADER))) {
    throw new AscendError('CSRF_INVALID', 'this change was sent without the session’s CSRF token');
  }
  const wanted = header(req, TEAM_HEADER);
  const teamId = wanted ?? (await teamsOf(store, user.id))[0]?.id;
  const role = teamId ? await roleIn(store, teamId, user.id) : undefined;
  if (!teamId || !role) {
    // A team the user is not in is answered like one that does not exist.
    throw new AscendError('RESOURCE_NOT_FOUND', wanted ? `team ${wanted} was not found` : 'you are not in any team');
  }
  return { kind: 'session', userId: user.id, tokenId: null, teamId, role, session };
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v.length <= 200 ? v : undefined;
}

export async function authenticate(store: Store, deps: StoreDeps, req: FastifyRequest): Promise<Principal> {
  const token = bearer(req.headers.authorization);
  if (token) {
    const info = await verifyApiToken(store, deps, token);
    return { kind: 'token', userId: info.createdBy, tokenId: info.id, teamId: info.teamId, role: info.role };
  }
  const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
  if (cookie) return fromSession(store, deps, req, cookie);
  throw new AscendError('SESSION_INVALID', 'sign in, or send an API token as `Authorization: Bearer <token>`');
}

export function requireRole(p: Principal, needed: Role): void {
  if (!roleAtLeast(p.role, needed)) {
    throw new AscendError('PERMISSION_DENIED', `this needs the ${needed} role or higher; you are ${p.role}`);
  }
}

export function sessionCookie(token: string, maxAgeS: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${token}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(maxAgeS))}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.header('set-cookie', sessionCookie('', 0, secure));
}
