import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createSignInLink } from '../../accounts/sign-in-links.js';
import { createUser, findUserByEmail, membersOf, roleIn, setMembership } from '../../accounts/teams.js';
import { requireRole } from '../auth.js';
import { type ApiContext, audit, parseBody, principalOf } from '../context.js';
import type { AddedMember, Member, Page } from '../types.js';

const AddBody = z.strictObject({
  email: z.string().min(3).max(254),
  name: z.string().max(100).optional(),
  role: z.enum(['owner', 'admin', 'releaser', 'viewer']),
});

/**
 * The team's members: anyone in the team sees the list; an admin adds a person (or changes a member's role);
 * for a person new to this server the answer holds a one-time sign-in link, shown once, to pass on.
 */
export function memberRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/members', async (req): Promise<Page<Member>> => {
    const p = await principalOf(ctx, req);
    const members = await membersOf(ctx.store, p.teamId);
    return {
      data: members.map((m) => ({ id: m.id, email: m.email, name: m.name, role: m.role, disabled: m.disabled })),
      next: null,
    };
  });

  app.post('/api/v1/members', async (req, reply): Promise<AddedMember> => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    const body = parseBody(AddBody, req.body);
    // Nobody hands out more power than they hold.
    requireRole(p, body.role);
    const existing = await findUserByEmail(ctx.store, body.email);
    const user = existing ?? (await createUser(ctx.store, ctx.deps, { email: body.email, name: body.name ?? '' }));
    const before = await roleIn(ctx.store, p.teamId, user.id);
    // An owner is not demoted by an admin.
    if (before) requireRole(p, before);
    await setMembership(ctx.store, ctx.deps, { teamId: p.teamId, userId: user.id, role: body.role });
    // A sign-in link signs in as the person, in every team they belong to: only a person this request made
    // gets one. Someone who already has an account keeps signing in their own way; handing their link to an
    // admin of another team would hand over that person's other teams.
    const link = existing ? null : await createSignInLink(ctx.store, ctx.deps, user.id);
    await audit(ctx, req, p, {
      action: 'member.add',
      outcome: 'success',
      target: { type: 'user', id: user.id },
      detail: { role: body.role, ...(before ? { previousRole: before } : {}) },
    });
    reply.status(201);
    return {
      member: { id: user.id, email: user.email, name: user.name, role: body.role, disabled: user.disabled },
      signInPath: link ? `/sign-in/${link.token}` : null,
      expiresAt: link ? link.expiresAt : null,
    };
  });
}
