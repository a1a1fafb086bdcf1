import { z } from 'zod';
import type { Clock } from '../../src/core/clock.js';
import { simError } from '../errors.js';
import { parseIsoDate } from '../sim-clock.js';
import type { Store, Team } from '../store.js';

export const AgreementBody = z
  .object({
    teamId: z.string().min(1).optional(),
    issuerId: z.string().min(1).optional(),
    /** `expired` (or `missing`): every request of the team's keys answers Apple's 403 until set `active` again. */
    state: z.enum(['active', 'expired', 'missing']),
    /** With `active`: the agreement lapses when the simulator's clock reaches this date. */
    expiresAt: z.string().optional(),
  })
  .strict()
  .refine((b) => Boolean(b.teamId) !== Boolean(b.issuerId), 'name the team by teamId or issuerId, not both');

export interface AgreementView {
  teamId: string;
  state: 'active' | 'expired';
  expiresAt: string | null;
}

/**
 * Agreement state per team. App Store Connect answers every request of a team whose Program License
 * Agreement (or another required agreement) has lapsed with 403 `FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED`
 * until the Account Holder accepts it; the router already answers so for a team whose `agreementsSigned` is
 * false, and this keeps that flag in step with an expiry date on the simulator's clock.
 */
export class Agreements {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  private team(b: { teamId?: string; issuerId?: string }): Team {
    const t = b.teamId
      ? this.store.teams.get(b.teamId)
      : [...this.store.teams.values()].find((x) => x.issuerId === b.issuerId);
    if (!t)
      throw simError(404, 'NOT_FOUND', 'The specified resource does not exist', `no team ${b.teamId ?? b.issuerId}`);
    return t;
  }

  set(body: z.infer<typeof AgreementBody>): AgreementView {
    const team = this.team(body);
    const expiresAt = body.expiresAt === undefined ? undefined : parseIsoDate(body.expiresAt);
    if (expiresAt !== undefined && body.state !== 'active')
      throw simError(
        400,
        'PARAMETER_ERROR.INVALID',
        'A parameter has an invalid value',
        'expiresAt goes with state "active"',
      );
    team.agreementsSigned = body.state === 'active';
    if (expiresAt === undefined) this.expiries.delete(team.id);
    else this.expiries.set(team.id, expiresAt);
    this.refresh();
    this.store.save();
    return this.view(team);
  }

  view(team: Team): AgreementView {
    const exp = this.expiries.get(team.id);
    return {
      teamId: team.id,
      state: team.agreementsSigned ? 'active' : 'expired',
      expiresAt: exp === undefined ? null : new Date(exp).toISOString(),
    };
  }

  list(): AgreementView[] {
    return [...this.store.teams.values()].map((t) => this.view(t));
  }

  /** Lapses every agreement whose date the clock has reached. Returns whether a team changed. */
  refresh(): boolean {
    let changed = false;
    for (const [teamId, at] of this.expiries) {
      const team = this.store.teams.get(teamId);
      if (!team || at > this.clock.now()) continue;
      this.expiries.delete(teamId);
      if (team.agreementsSigned) {
        team.agreementsSigned = false;
        changed = true;
      }
    }
    return changed;
  }
}
