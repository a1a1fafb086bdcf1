import type { FastifyInstance, FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { Clock } from '../../src/core/clock.js';
import { SimError, simError } from '../errors.js';
import type { Store } from '../store.js';
import { AgreementBody, Agreements } from './agreements.js';
import { expireBuilds } from './builds.js';

export interface HealthDeps {
  store: Store;
  /** The simulator's resource clock (sim-clock.ts; `/__sim/clock` moves it, admin-routes.ts). */
  clock: Clock;
}

function invalidBody(detail: string): SimError {
  return simError(400, 'ENTITY_INVALID', 'The request entity is not valid.', detail);
}

/** Admin bodies arrive as text (the router parses JSON itself, to answer malformed JSON as Apple does). */
function parseBody<T>(schema: z.ZodType<T>, raw: unknown, hint: string): T {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw invalidBody(`The request body is not valid JSON; send ${hint}`);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidBody(`Send ${hint}`);
  return parsed.data;
}

async function answer(reply: FastifyReply, run: () => unknown): Promise<unknown> {
  try {
    const body = run();
    if (body === undefined) return reply.code(204).send();
    return body;
  } catch (err) {
    if (!(err instanceof SimError)) throw err;
    return reply.code(err.status).header('content-type', 'application/json').send({ errors: err.errors });
  }
}

/**
 * What `ascend doctor` looks for, served by the simulator: agreement state per team (`GET|POST /__sim/agreements`), key revocation and deletion
 * (`POST /__sim/keys/:keyId/revoke`, `DELETE /__sim/keys/:keyId`), builds expiring by the clock, and a `Date`
 * header on every answer that tells the simulator's "now", as App Store Connect's tells Apple's.
 */
export function registerHealth(app: FastifyInstance, deps: HealthDeps): Agreements {
  const { clock } = deps;
  const agreements = new Agreements(deps.store, clock);
  const refresh = () => {
    const lapsed = agreements.refresh();
    if (expireBuilds(deps.store, clock.now()) || lapsed) deps.store.save();
  };
  // At start and whenever the clock is moved, so reads never change state (tests compare snapshots around
  // requests); before API requests too, for expiry that real time reaches while the simulator runs.
  refresh();
  app.addHook('onRequest', async (req, reply) => {
    reply.header('date', new Date(clock.now()).toUTCString());
    if (req.url.startsWith('/v1/')) refresh();
  });
  app.get('/__sim/agreements', async () => ({ agreements: agreements.list() }));
  app.post('/__sim/agreements', async (req, reply) =>
    answer(reply, () =>
      agreements.set(
        parseBody(
          AgreementBody,
          req.body,
          '{"teamId"|"issuerId": ..., "state": "active"|"expired", "expiresAt"?: ISO}',
        ),
      ),
    ),
  );
  const keyOf = (keyId: string) => {
    const key = deps.store.keys.get(keyId);
    if (!key) throw simError(404, 'NOT_FOUND', 'The specified resource does not exist', `no API key ${keyId}`);
    return key;
  };
  // Revocation is immediate and final at Apple; a deleted key is one Apple no longer knows at all.
  app.post<{ Params: { keyId: string } }>('/__sim/keys/:keyId/revoke', async (req, reply) =>
    answer(reply, () => {
      const key = keyOf(req.params.keyId);
      key.revoked = true;
      deps.store.save();
      return { keyId: key.keyId, revoked: true };
    }),
  );
  app.delete<{ Params: { keyId: string } }>('/__sim/keys/:keyId', async (req, reply) =>
    answer(reply, () => {
      deps.store.keys.delete(keyOf(req.params.keyId).keyId);
      deps.store.save();
      return undefined;
    }),
  );
  return agreements;
}
