import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { AscendError } from '../../../core/errors.js';
import { type ApiContext, principalOf } from '../context.js';
import type { SandboxInfo } from '../types.js';

/**
 * `GET /api/v1/sandbox`: under `ascend server start --sandbox`, where the second key and the sample build are,
 * so the dashboard can point at them. Paths and IDs only: the .p8's content never leaves the file.
 */
export function sandboxRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/sandbox', async (req): Promise<SandboxInfo> => {
    await principalOf(ctx, req);
    const dir = ctx.sandbox?.dir;
    if (!dir) throw new AscendError('RESOURCE_NOT_FOUND', 'this server is not running in sandbox mode');
    const p8 = (await readdir(dir)).find((f) => /^AuthKey_[A-Z0-9]{10}\.p8$/.test(f));
    const json = JSON.parse(await readFile(join(dir, 'key.json'), 'utf8')) as { key_id?: string; issuer_id?: string };
    if (!p8 || !json.key_id) throw new AscendError('RESOURCE_NOT_FOUND', `the sandbox key is missing from ${dir}`);
    return {
      dir,
      keyFile: join(dir, p8),
      keyId: json.key_id,
      issuerId: json.issuer_id ?? null,
      sampleIpa: join(dir, 'Sample.ipa'),
    };
  });
}
