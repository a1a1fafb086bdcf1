import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AscendError } from '../../../core/errors.js';
import { createSession, revokeSession, SESSION_TTL_MS, type Session } from '../../accounts/sessions.js';
import { signInWithPassword } from '../../accounts/sign-in.js';
import { consumeSignInLink } from '../../accounts/sign-in-links.js';
import { getUser, teamsOf, type User } from '../../accounts/teams.js';
import { clearSessionCookie, cookieValue, SESSION_COOKIE, sessionCookie } from '../auth.js';
import { type ApiContext, audit, parseBody, principalOf } from '../context.js';
import type { SessionInfo } from '../types.js';

const PasswordBody = z.strictObject({ email: z.string().max(254), password: z.string().max(1024) });
const LinkBody = z.strictObject({ token: z.string().max(200) });

async function info(ctx: ApiContext, user: User, session: Session): Promise<SessionInfo> {
  const teams = await teamsOf(ctx.store, user.id);
  return {
    user: { id: user.id, email: user.email, name: user.name },
    teams: teams.map((t) => ({ id: t.id, name: t.name, role: t.role })),
    csrfToken: session.csrfToken,
    expiresAt: session.expiresAt,
  };
}

function setCookie(ctx: ApiContext, reply: FastifyReply, token: string): void {
  reply.header('set-cookie', sessionCookie(token, SESSION_TTL_MS / 1000, ctx.secureCookies));
}

/** A sign-in shows in the audit log of every team the person belongs to. */
async function auditSignIn(ctx: ApiContext, req: FastifyRequest, userId: string, result: SessionInfo, action: string) {
  const actor = { kind: 'session' as const, userId, tokenId: null, role: 'viewer' as const };
  for (const t of result.teams) {
    await audit(
      ctx,
      req,
      { ...actor, teamId: t.id },
      { action, outcome: 'success', target: { type: 'user', id: userId } },
    );
  }
}

/** Signing in and out: password, one-time link (`npm start`'s "Sign in:" line), session info. */
export function sessionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/api/v1/session', async (req, reply) => {
    const body = parseBody(PasswordBody, req.body);
    try {
      const r = await signInWithPassword(ctx.store, ctx.deps, ctx.limiter, { ...body, ip: req.ip }, ctx.scrypt);
      const result = await info(ctx, r.user, r.session);
      await auditSignIn(ctx, req, r.user.id, result, 'session.sign_in');
      setCookie(ctx, reply, r.token);
      return result;
    } catch (err) {
      // The address tried, never the password; failures have no team.
      await audit(ctx, req, null, {
        action: 'session.sign_in',
        outcome: 'failure',
        detail: { email: body.email.slice(0, 254) },
      });
      throw err;
    }
  });

  const signInByLink = async (req: FastifyRequest, reply: FastifyReply, token: string) => {
    const userId = await consumeSignInLink(ctx.store, ctx.deps, token);
    const user = await getUser(ctx.store, userId);
    if (!user || user.disabled) throw new AscendError('SIGN_IN_LINK_INVALID', 'the sign-in link’s user is disabled');
    const s = await createSession(ctx.store, ctx.deps, user.id, {
      ip: req.ip,
      userAgent: req.headers['user-agent'] ?? null,
    });
    const result = await info(ctx, user, s.session);
    await auditSignIn(ctx, req, user.id, result, 'session.sign_in_link');
    setCookie(ctx, reply, s.token);
    return result;
  };

  app.post('/api/v1/session/link', async (req, reply) => {
    const { token } = parseBody(LinkBody, req.body);
    return signInByLink(req, reply, token);
  });

  // The "Sign in:" line of `ascend server start`: a browser opens it, gets the session cookie, lands on `/`.
  app.get<{ Params: { token: string } }>('/sign-in/:token', async (req, reply) => {
    await signInByLink(req, reply, req.params.token.slice(0, 200));
    reply.header('cache-control', 'no-store');
    return reply.redirect('/', 303);
  });

  app.get('/api/v1/session', async (req) => {
    const p = await principalOf(ctx, req);
    if (p.kind !== 'session' || !p.session || !p.userId) {
      throw new AscendError('SESSION_INVALID', 'this route answers for a signed-in session, not an API token');
    }
    const user = await getUser(ctx.store, p.userId);
    if (!user) throw new AscendError('SESSION_INVALID', 'the session’s user no longer exists');
    return info(ctx, user, p.session);
  });

  app.delete('/api/v1/session', async (req, reply) => {
    const p = await principalOf(ctx, req);
    const token = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (p.kind === 'session' && token) await revokeSession(ctx.store, ctx.deps, token);
    clearSessionCookie(reply, ctx.secureCookies);
    return reply.status(204).send();
  });
}
