import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AscendError } from '../../../core/errors.js';
import { type ArtifactRecord, createArtifact, findArtifactBySha, getArtifact } from '../../store/artifacts.js';
import { requireRole } from '../auth.js';
import { type ApiContext, audit, principalOf } from '../context.js';

function view(a: ArtifactRecord) {
  return {
    id: a.id,
    sha256: a.sha256,
    size: a.size,
    filename: a.filename,
    facts: a.facts,
    findings: a.findings,
    createdAt: a.createdAt,
  };
}

/** A name from X-Filename: its last path part, printable, bounded; the file itself is named by its digest. */
function filenameOf(header: unknown): string {
  const raw = typeof header === 'string' ? header : 'upload.ipa';
  const base = raw.split(/[\\/]/).pop() ?? 'upload.ipa';
  return base.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 255) || 'upload.ipa';
}

/**
 * One upload, as POST /api/v1/artifacts and a remote worker's built artifact both take it: the raw body
 * streams to the artifact store (never buffered: Fastify's body limit would otherwise hold it in memory),
 * bounded by the server's max artifact size, is inspected on arrival, and is recorded for the team.
 */
export async function receiveArtifact(
  ctx: ApiContext,
  req: FastifyRequest,
  teamId: string,
  createdBy: string | null,
): Promise<{ artifact: ArtifactRecord; created: boolean }> {
  if (req.headers['content-type'] !== 'application/octet-stream') {
    throw new AscendError('USAGE', 'upload the file as the raw body with Content-Type: application/octet-stream');
  }
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > ctx.artifacts.maxBytes) {
    throw new AscendError(
      'ARTIFACT_TOO_LARGE',
      `the upload declares ${declared} bytes, more than ${ctx.artifacts.maxBytes}`,
    );
  }
  const filename = filenameOf(req.headers['x-filename']);
  const { sha256, size } = await ctx.artifacts.files.put(req.body as Readable, ctx.artifacts.maxBytes);
  const existing = await findArtifactBySha(ctx.store, teamId, sha256);
  if (existing) return { artifact: existing, created: false };
  let inspected: Awaited<ReturnType<typeof ctx.artifacts.inspect>>;
  try {
    inspected = await ctx.artifacts.inspect(ctx.artifacts.files.pathOf(sha256), filename);
  } catch (err) {
    // A hostile or broken archive is not kept: no worker may ever see it.
    await ctx.artifacts.files.remove(sha256);
    throw err;
  }
  const { facts, findings } = inspected;
  const artifact = await createArtifact(ctx.store, ctx.deps, teamId, {
    sha256,
    size,
    filename,
    facts,
    findings,
    createdBy,
  });
  return { artifact, created: true };
}

/** Build uploads (DESIGN §3.5). */
export function artifactRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  app.post('/api/v1/artifacts', async (req, reply) => {
    const p = await principalOf(ctx, req);
    requireRole(p, 'releaser');
    const { artifact: art, created } = await receiveArtifact(ctx, req, p.teamId, p.userId);
    if (!created) return view(art);
    const { sha256, size, filename } = art;
    await audit(ctx, req, p, {
      action: 'artifact.upload',
      outcome: 'success',
      target: { type: 'artifact', id: art.id },
      detail: { sha256, size, filename },
    });
    reply.status(201);
    return view(art);
  });

  app.get<{ Params: { id: string } }>('/api/v1/artifacts/:id', async (req) => {
    const p = await principalOf(ctx, req);
    return view(await getArtifact(ctx.store, p.teamId, req.params.id.slice(0, 64)));
  });
}
