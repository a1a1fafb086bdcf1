import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AscendError } from '../../../core/errors.js';
import { createTokenProvider } from '../../../credentials/token.js';
import type { ApiKey, TokenProvider } from '../../../credentials/types.js';
import { verifyWorkerToken, type WorkerTokenInfo } from '../../accounts/worker-tokens.js';
import type { JobLease } from '../../queue/types.js';
import { getArtifact } from '../../store/artifacts.js';
import { getDeploy } from '../../store/deploys.js';
import { isoTime } from '../../store/ids.js';
import { openKey } from '../../store/keys.js';
import { ARTIFACT_URL_TTL_MS, parseRange, signArtifactPath, verifyArtifactQuery } from '../../worker/artifact-urls.js';
import type { WorkerCredentials } from '../../worker/protocol.js';
import type { ApiContext } from '../context.js';
import { parseBody } from '../context.js';
import { receiveArtifact } from './artifacts.js';

/** What the worker routes need beyond the API context: the URL-signing keys and the JWT lifetime. */
export interface WorkerApi {
  urlKeys: Buffer[];
  /** The queue's lease of a running job: credentials go only to the worker holding it. */
  lease(jobId: string): Promise<JobLease | undefined>;
  /** exp − iat of the App Store Connect tokens handed to workers (Apple allows at most 20 minutes). */
  jwtLifetimeS: number;
}

/** A JWT's `exp` (ms): when the token handed out stops working. */
function expiryOf(jwt: string): number {
  const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp: number };
  return claims.exp * 1000;
}

/** The worker behind the request: a worker token only; a team's API token or a session is refused. */
async function workerOf(ctx: ApiContext, req: FastifyRequest): Promise<WorkerTokenInfo> {
  const header = req.headers.authorization;
  const m = header && header.length <= 300 ? /^Bearer\s+(\S{1,200})$/i.exec(header.trim()) : null;
  if (!m?.[1])
    throw new AscendError('WORKER_TOKEN_INVALID', 'worker routes need `Authorization: Bearer <worker token>`');
  return verifyWorkerToken(ctx.store, ctx.deps, m[1]);
}

const CredentialsBody = z.object({ worker: z.string().min(1).max(200) }).strict();

/**
 * The deploy of a job leased to this very worker process (whose name is the asking token's), the lease not
 * passed: only then does a worker get what the job needs. Otherwise 409 JOB_NOT_LEASED.
 */
async function leasedJob(
  ctx: ApiContext,
  w: WorkerApi,
  me: WorkerTokenInfo,
  jobId: string,
  worker: string,
): Promise<{ teamId: string; deployId: string }> {
  const lease = await w.lease(jobId);
  const held =
    lease?.worker === worker && worker.startsWith(`${me.id}@`) && lease.until > isoTime(ctx.deps.clock.now());
  if (!lease || !held)
    throw new AscendError('JOB_NOT_LEASED', `job ${jobId.slice(0, 60)} is not leased to this worker`);
  const { teamId, deployId } = lease.payload as { teamId: string; deployId: string };
  return { teamId, deployId };
}

/** A build job's deploy: one that has a build step and no artifact yet. */
async function buildingDeploy(ctx: ApiContext, job: { teamId: string; deployId: string }) {
  const d = await getDeploy(ctx.store, job.teamId, job.deployId);
  if (!d.build || d.artifactId)
    throw new AscendError('DEPLOY_STATE_CONFLICT', `deploy ${d.id} has no build waiting for its artifact`);
  return d;
}

/**
 * The API of `ascend worker` on other machines (docs/SERVER.md, "Workers on other machines"): a worker
 * never holds the master key, so it asks here, per leased job, for a short-lived App Store Connect token
 * and a short-lived signed URL of the job's artifact, which it reads by byte range.
 */
export function workerRoutes(app: FastifyInstance, ctx: ApiContext, w: WorkerApi): void {
  // One token per key for all workers, as AscClients keeps one per key for the server's own work (Apple
  // advises reuse). Handed out with at least half its life left, so a worker, which asks again two minutes
  // before expiry, uses each for minutes.
  const providers = new Map<string, TokenProvider>();
  const tokenFor = (key: ApiKey): TokenProvider => {
    const id = createHash('sha256')
      .update(`${key.keyId}\n${key.issuerId ?? ''}\n${key.privateKeyPem}`)
      .digest('hex');
    const found = providers.get(id);
    if (found) return found;
    const made = createTokenProvider(key, {
      clock: ctx.deps.clock,
      lifetimeS: w.jwtLifetimeS,
      refreshMarginS: Math.floor(w.jwtLifetimeS / 2),
    });
    providers.set(id, made);
    return made;
  };
  app.get('/api/v1/worker/me', async (req) => {
    const me = await workerOf(ctx, req);
    return { id: me.id, name: me.name };
  });

  app.post<{ Params: { jobId: string } }>('/api/v1/worker/jobs/:jobId/credentials', async (req, reply) => {
    const me = await workerOf(ctx, req);
    const { worker } = parseBody(CredentialsBody, req.body);
    const now = ctx.deps.clock.now();
    const { teamId, deployId } = await leasedJob(ctx, w, me, req.params.jobId, worker);
    const d = await getDeploy(ctx.store, teamId, deployId);
    const [key, artifact] = await Promise.all([
      openKey(ctx.store, ctx.vault, teamId, d.keyRef ?? ''),
      getArtifact(ctx.store, teamId, d.artifactId ?? ''),
    ]);
    const token = await tokenFor(key).token();
    const jwtExpires = expiryOf(token);
    const urlExpires = now + ARTIFACT_URL_TTL_MS;
    const body: WorkerCredentials = {
      appStoreConnect: { token, expiresAt: isoTime(jwtExpires), keyId: key.keyId },
      artifact: {
        url: signArtifactPath(w.urlKeys, teamId, artifact.id, urlExpires),
        size: artifact.size,
        sha256: artifact.sha256,
        filename: artifact.filename,
        expiresAt: isoTime(urlExpires),
      },
    };
    reply.header('cache-control', 'no-store');
    return body;
  });

  // A build job's secret env values (docs/SERVER.md, "Build steps"): opened from the vault for the worker
  // running it, never logged or stored there.
  app.post<{ Params: { jobId: string } }>('/api/v1/worker/jobs/:jobId/build-env', async (req, reply) => {
    const me = await workerOf(ctx, req);
    const { worker } = parseBody(CredentialsBody, req.body);
    const d = await buildingDeploy(ctx, await leasedJob(ctx, w, me, req.params.jobId, worker));
    const env = d.buildEnvRef
      ? (JSON.parse((await ctx.vault.open(d.teamId, d.buildEnvRef)).toString('utf8')) as Record<string, string>)
      : {};
    reply.header('cache-control', 'no-store');
    return { env };
  });

  // A build job's artifact, streamed as the raw body: stored exactly as POST /api/v1/artifacts stores an upload.
  app.post<{ Params: { jobId: string } }>('/api/v1/worker/jobs/:jobId/artifact', async (req, reply) => {
    const me = await workerOf(ctx, req);
    const raw = req.headers['x-ascend-worker'];
    const worker = typeof raw === 'string' ? raw.slice(0, 200) : '';
    const d = await buildingDeploy(ctx, await leasedJob(ctx, w, me, req.params.jobId, worker));
    const { artifact, created } = await receiveArtifact(ctx, req, d.teamId, d.createdBy ?? null);
    reply.status(created ? 201 : 200);
    return { id: artifact.id };
  });

  app.get<{ Params: { id: string }; Querystring: Record<string, string> }>(
    '/api/v1/worker/artifacts/:id',
    async (req, reply) => {
      await workerOf(ctx, req);
      const { teamId } = verifyArtifactQuery(w.urlKeys, req.params.id, req.query, ctx.deps.clock.now());
      const artifact = await getArtifact(ctx.store, teamId, req.params.id);
      const size = artifact.size;
      const raw = req.headers.range;
      let range: ReturnType<typeof parseRange>;
      try {
        range = parseRange(typeof raw === 'string' ? raw : undefined, size);
      } catch (err) {
        reply.header('content-range', `bytes */${size}`);
        throw err;
      }
      const path = ctx.artifacts.files.pathOf(artifact.sha256);
      reply.header('accept-ranges', 'bytes').header('cache-control', 'no-store');
      reply.header('content-type', 'application/octet-stream');
      if (!range) {
        reply.header('content-length', String(size));
        return reply.send(createReadStream(path));
      }
      reply
        .status(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
        .header('content-length', String(range.end - range.start + 1));
      return reply.send(createReadStream(path, { start: range.start, end: range.end, highWaterMark: 256 * 1024 }));
    },
  );
}
