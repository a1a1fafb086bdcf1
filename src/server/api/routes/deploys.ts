import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AscendError } from '../../../core/errors.js';
import { assertKeyUsable } from '../../monitor/monitor.js';
import { getArtifact } from '../../store/artifacts.js';
import { clearCancel, requestCancel } from '../../store/cancels.js';
import {
  appendDeployEvent,
  createDeploy,
  type DeployRecord,
  getDeploy,
  listDeployEvents,
  listDeploys,
  updateDeploy,
} from '../../store/deploys.js';
import { getKey, listKeys } from '../../store/keys.js';
import type { DeployState } from '../../store/schema.js';
import { BuildBody, type StoredBuild, storedBuildOf, waitingDetail } from '../../worker/build-spec.js';
import { runOf } from '../../worker/deploy-job.js';
import { type Principal, requireRole } from '../auth.js';
import { type ApiContext, audit, type DeployControl, parseBody, principalOf } from '../context.js';
import type { Deploy, Page } from '../types.js';

const text = (max: number) => z.string().max(max);
const CreateBody = z
  .object({
    artifactId: text(64).optional(),
    /** Build the artifact first, on a worker with the given labels (docs/SERVER.md, "Build steps"). */
    build: BuildBody.optional(),
    keyId: text(64).optional(),
    groups: z.array(text(100)).max(50).optional(),
    whatsNew: text(4000).optional(),
    locale: z
      .string()
      .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/)
      .optional(),
    encryption: z.enum(['exempt', 'non-exempt']).optional(),
    betaReview: z.boolean().optional(),
    appStore: z.boolean().optional(),
    submitReview: z.boolean().optional(),
    release: z
      .object({ type: z.enum(['MANUAL', 'AFTER_APPROVAL', 'SCHEDULED']), date: z.iso.datetime().optional() })
      .strict()
      .optional(),
    phased: z.boolean().optional(),
    dryRun: z.boolean().optional(),
  })
  .strict()
  .refine((b) => (b.artifactId === undefined) !== (b.build === undefined), {
    message: 'give exactly one of artifactId (an uploaded build) and build (a command that makes one)',
  });

const STATES = ['queued', 'running', 'awaiting_approval', 'succeeded', 'failed', 'cancelled'] as const;
const ENDED: readonly DeployState[] = ['succeeded', 'failed', 'cancelled', 'awaiting_approval'];

export function deployView(d: DeployRecord): Deploy {
  return {
    id: d.id,
    artifactId: d.artifactId,
    keyId: d.keyRef,
    state: d.state,
    options: optionsView(d.options),
    steps: d.steps,
    error: d.error,
    progress: d.progress,
    createdBy: d.createdBy,
    createdAt: d.createdAt,
    startedAt: d.startedAt,
    updatedAt: d.updatedAt,
    endedAt: d.endedAt,
    ...(d.build ? { build: buildView(d.build as unknown as StoredBuild) } : {}),
  };
}

/** The options as given: the run generation kept beside them is the queue's business. */
function optionsView(options: Record<string, unknown>): Record<string, unknown> {
  const { run: _run, ...given } = options;
  return given;
}

/** The build as the API shows it: the env's names only, never a value. */
function buildView(b: StoredBuild): NonNullable<Deploy['build']> {
  return {
    command: b.command,
    ...(b.workdir ? { workdir: b.workdir } : {}),
    labels: b.labels,
    artifact: b.artifact,
    timeout: b.timeoutMs / 1000,
    envNames: b.envNames,
  };
}

/** A deploy's next job: its build while it has no artifact yet, the pipeline otherwise. */
async function requeue(control: DeployControl, d: DeployRecord): Promise<void> {
  const payload = { teamId: d.teamId, deployId: d.id, run: runOf(d) };
  if (d.build && !d.artifactId) {
    if (!control.enqueueBuild) throw new AscendError('USAGE', 'this server runs no build steps');
    await control.enqueueBuild(payload, (d.build as unknown as StoredBuild).labels);
  } else await control.enqueue(payload);
}

/** Who acted, as recorded on the deploy: the user, or the API token when no user signed in. */
const actorOf = (p: Principal) => p.userId ?? `token:${p.tokenId}`;
const idParam = (req: FastifyRequest<{ Params: { id: string } }>) => req.params.id.slice(0, 64);

/** Deploys (DESIGN §3.5): queued as jobs, followed over Server-Sent Events, approved, cancelled, retried. */
export function deployRoutes(app: FastifyInstance, ctx: ApiContext, control: DeployControl): void {
  createAndReadRoutes(app, ctx, control);
  eventRoutes(app, ctx, control);
  actionRoutes(app, ctx, control);
}

function createAndReadRoutes(app: FastifyInstance, ctx: ApiContext, control: DeployControl): void {
  app.post('/api/v1/deploys', async (req, reply) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'releaser');
    const { artifactId, build, keyId, ...options } = parseBody(CreateBody, req.body);
    if (build && !control.enqueueBuild)
      throw new AscendError('USAGE', 'this server runs no build steps', { remedy: 'Upload the build as an artifact.' });
    const keyRef = keyId ? (await getKey(ctx.store, p.teamId, keyId)).id : (await listKeys(ctx.store, p.teamId))[0]?.id;
    if (!keyRef)
      throw new AscendError('RESOURCE_NOT_FOUND', 'this team has no App Store Connect key', {
        remedy: 'Add a key first (POST /api/v1/keys).',
      });
    await assertKeyUsable(ctx.store, p.teamId, keyRef);
    if (artifactId) await getArtifact(ctx.store, p.teamId, artifactId); // another team's artifact is a 404
    const stored = build ? storedBuildOf(build) : null;
    // The env values are secrets: sealed in the vault, never on the deploy row, in an event or a response.
    const envRef =
      build?.env && Object.keys(build.env).length
        ? await ctx.vault.seal(p.teamId, 'build-env', JSON.stringify(build.env))
        : null;
    const d = await createDeploy(ctx.store, ctx.deps, p.teamId, {
      artifactId: artifactId ?? null,
      keyRef,
      options,
      createdBy: actorOf(p),
      ...(stored
        ? {
            build: stored as unknown as Record<string, unknown>,
            buildEnvRef: envRef,
            steps: [{ step: 'build', status: 'waiting', detail: waitingDetail(stored.labels) }],
          }
        : {}),
    });
    await requeue(control, d);
    await audit(ctx, req, p, { action: 'deploy.create', outcome: 'success', target: { type: 'deploy', id: d.id } });
    reply.status(202);
    return deployView(d);
  });

  app.get<{ Querystring: { cursor?: string; limit?: string; state?: string } }>('/api/v1/deploys', async (req) => {
    const p = await principalOf(ctx, req);
    const state = req.query.state;
    if (state !== undefined && !(STATES as readonly string[]).includes(state))
      throw new AscendError('USAGE', `state must be one of ${STATES.join(', ')}`);
    const page = await listDeploys(ctx.store, p.teamId, {
      cursor: req.query.cursor ?? null,
      ...(req.query.limit === undefined ? {} : { limit: Number(req.query.limit) }),
      ...(state ? { state: state as DeployState } : {}),
    });
    return { data: page.data.map(deployView), next: page.next } satisfies Page<Deploy>;
  });

  app.get<{ Params: { id: string } }>('/api/v1/deploys/:id', async (req) => {
    const p = await principalOf(ctx, req);
    return deployView(await getDeploy(ctx.store, p.teamId, idParam(req)));
  });

  // The build step's whole output (already redacted), beside the bounded `log` events.
  app.get<{ Params: { id: string } }>('/api/v1/deploys/:id/build-log', async (req, reply) => {
    const p = await principalOf(ctx, req);
    const d = await getDeploy(ctx.store, p.teamId, idParam(req)); // another team's deploy is a 404
    const log = d.build ? await control.buildLog?.(d.id) : undefined;
    if (!log) throw new AscendError('RESOURCE_NOT_FOUND', `deploy ${d.id} has no build log on this server`);
    reply
      .header('content-type', 'text/plain; charset=utf-8')
      .header('content-length', log.size)
      .header('cache-control', 'no-store');
    return reply.send(log.stream);
  });
}

/** GET …/events: Server-Sent Events, replayed from Last-Event-ID. */
function eventRoutes(app: FastifyInstance, ctx: ApiContext, control: DeployControl): void {
  // Open streams end when the server stops; otherwise closing would wait for every follower's deploy.
  const open = new Set<AbortController>();
  app.addHook('preClose', async () => {
    for (const c of open) c.abort();
  });
  app.get<{ Params: { id: string }; Querystring: { after?: string } }>(
    '/api/v1/deploys/:id/events',
    async (req, reply) => {
      const p = await principalOf(ctx, req);
      const id = idParam(req);
      await getDeploy(ctx.store, p.teamId, id);
      const last = Number(req.headers['last-event-id'] ?? req.query.after ?? 0);
      let after = Number.isSafeInteger(last) && last > 0 ? last : 0;
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      reply.raw.flushHeaders(); // the follower learns at once that the stream is open, before any event
      const closed = new AbortController();
      open.add(closed);
      req.raw.on('close', () => closed.abort());
      // Replays from Last-Event-ID, then follows until the deploy ends or waits for an approval. The row's
      // state and its `state` event are two writes: the stream ends once it has sent the event that matches.
      let lastState: string | undefined;
      while (!closed.signal.aborted) {
        const events = await listDeployEvents(ctx.store, p.teamId, id, { afterSeq: after });
        for (const e of events) {
          reply.raw.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`);
          after = e.seq;
          if (e.type === 'state') lastState = (e.data as { state?: string }).state;
        }
        if (events.length) continue;
        const { state } = await getDeploy(ctx.store, p.teamId, id);
        if (ENDED.includes(state)) {
          if (lastState === state) break;
          // Resumed from a Last-Event-ID past the final `state` event: it was sent before.
          const final = (await listDeployEvents(ctx.store, p.teamId, id, { limit: 1000 }))
            .filter((e) => e.type === 'state')
            .at(-1);
          if (final && final.seq <= after && (final.data as { state?: string }).state === state) break;
        }
        await control.sleep(control.pollMs, closed.signal).catch(() => {});
      }
      open.delete(closed);
      reply.raw.end();
    },
  );
}

/** Cancel, retry and approve: each moves the deploy by compare-and-set, audits, and re-queues when needed. */
function actionRoutes(app: FastifyInstance, ctx: ApiContext, control: DeployControl): void {
  app.post<{ Params: { id: string } }>('/api/v1/deploys/:id/cancel', async (req, reply) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'releaser');
    const id = idParam(req);
    const d = await getDeploy(ctx.store, p.teamId, id);
    // Running, but no job will run it again (the queue gave up on its last attempt): nobody would see a
    // flag, so the deploy is cancelled here.
    const orphaned = d.state === 'running' && control.hasLiveJob !== undefined && !(await control.hasLiveJob(d));
    if (d.state === 'running' && !orphaned) {
      // The flag reaches the worker wherever it runs (it polls); a deploy running here is also stopped at once.
      const flagged = await requestCancel(ctx.store, ctx.deps, p.teamId, id);
      if (!control.cancel(id) && !flagged)
        throw new AscendError('DEPLOY_STATE_CONFLICT', `deploy ${id} ended before the cancel reached it`);
    } else {
      const from: DeployState[] = orphaned ? ['running'] : ['queued', 'awaiting_approval'];
      await updateDeploy(ctx.store, ctx.deps, p.teamId, id, { state: 'cancelled' }, from);
      if (orphaned) await clearCancel(ctx.store, id); // a flag left by an earlier cancel must not stop a retry
      await appendDeployEvent(ctx.store, ctx.deps, p.teamId, id, 'state', { state: 'cancelled' });
    }
    await audit(ctx, req, p, { action: 'deploy.cancel', outcome: 'success', target: { type: 'deploy', id } });
    reply.status(202);
    return deployView(await getDeploy(ctx.store, p.teamId, id));
  });

  app.post<{ Params: { id: string } }>('/api/v1/deploys/:id/retry', async (req, reply) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'releaser');
    const id = idParam(req);
    // The saved step state makes the new run resume: nothing uploaded or submitted twice.
    const before = await getDeploy(ctx.store, p.teamId, id);
    // A build that did not make its artifact runs again: its step waits for a worker anew.
    const steps =
      before.build && !before.artifactId
        ? before.steps.map((s) =>
            s.step === 'build'
              ? {
                  step: 'build',
                  status: 'waiting',
                  detail: waitingDetail((before.build as unknown as StoredBuild).labels),
                }
              : s,
          )
        : undefined;
    // A new run generation: a job an earlier run left in the queue (a cancel of a queued deploy leaves it)
    // finds it stale and exits, so two jobs never run the deploy at once.
    const options = { ...before.options, run: runOf(before) + 1 };
    await updateDeploy(
      ctx.store,
      ctx.deps,
      p.teamId,
      id,
      { state: 'queued', error: null, options, ...(steps ? { steps } : {}) },
      ['failed', 'cancelled'],
    );
    await appendDeployEvent(ctx.store, ctx.deps, p.teamId, id, 'state', { state: 'queued' });
    await requeue(control, await getDeploy(ctx.store, p.teamId, id));
    await audit(ctx, req, p, { action: 'deploy.retry', outcome: 'success', target: { type: 'deploy', id } });
    reply.status(202);
    return deployView(await getDeploy(ctx.store, p.teamId, id));
  });

  app.post<{ Params: { id: string } }>('/api/v1/deploys/:id/approve', async (req, reply) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'admin');
    const id = idParam(req);
    const d = await getDeploy(ctx.store, p.teamId, id);
    if (d.state !== 'awaiting_approval')
      throw new AscendError('DEPLOY_STATE_CONFLICT', `deploy ${id} is ${d.state}, not awaiting_approval`);
    if (d.createdBy === actorOf(p)) {
      await audit(ctx, req, p, { action: 'deploy.approve', outcome: 'denied', target: { type: 'deploy', id } });
      throw new AscendError('PERMISSION_DENIED', 'a deploy cannot be approved by the person who started it');
    }
    const events = await listDeployEvents(ctx.store, p.teamId, id, { limit: 1000 });
    const waiting = events.filter((e) => e.type === 'state' && (e.data as { step?: string }).step).at(-1);
    const step = (waiting?.data as { step?: string } | undefined)?.step ?? 'betaReview';
    const approved = await updateDeploy(ctx.store, ctx.deps, p.teamId, id, { state: 'queued' }, ['awaiting_approval']);
    await appendDeployEvent(ctx.store, ctx.deps, p.teamId, id, 'approval', { step, by: actorOf(p) });
    await appendDeployEvent(ctx.store, ctx.deps, p.teamId, id, 'state', { state: 'queued' });
    await control.enqueue({ teamId: p.teamId, deployId: id, run: runOf(approved) });
    await audit(ctx, req, p, {
      action: 'deploy.approve',
      outcome: 'success',
      target: { type: 'deploy', id },
      detail: { step },
    });
    reply.status(202);
    return deployView(await getDeploy(ctx.store, p.teamId, id));
  });
}
