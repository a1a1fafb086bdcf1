import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AscendError } from '../../../core/errors.js';

/**
 * Where `npm run build` puts the dashboard (vite, web/ → dist/web): beside the compiled server in a package
 * (dist/src/server/api/routes → dist/web), or under dist/ when the server runs from its TypeScript source.
 */
export function defaultWebDir(): string {
  const candidates = [
    fileURLToPath(new URL('../../../../web/', import.meta.url)),
    fileURLToPath(new URL('../../../../dist/web/', import.meta.url)),
  ];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0]!;
}

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
  json: 'application/json',
  map: 'application/json',
};

const COMMON = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

// Scripts and styles from this origin only, no inline script; the API is the only place it talks to.
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>ascend</title></head><body><main><h1>ascend</h1><p>The web dashboard is not built. Run <code>npm run build</code> (or <code>npm ci</code>, which builds it) in the ascend folder, then reload this page. The JSON API under <code>/api/v1</code> works without it; see docs/SERVER.md.</p></main></body></html>`;

function notFound(path: string): AscendError {
  return new AscendError('RESOURCE_NOT_FOUND', `no route GET ${path.slice(0, 200)}`, {
    remedy: 'Check the path against docs/SERVER.md.',
  });
}

/**
 * The dashboard (DESIGN §3.7): `index.html` for `/` and every client-side route, hashed files under
 * `/assets/` cached for a year. Files are read when asked for, so starting the server costs nothing more.
 */
export function homeRoutes(app: FastifyInstance, webDir: string = defaultWebDir()): void {
  const page = async (reply: FastifyReply) => {
    reply.headers({ ...COMMON, 'cache-control': 'no-cache' });
    const html = await readFile(join(webDir, 'index.html'), 'utf8').catch(() => null);
    if (html === null) {
      reply.status(503).headers({ 'content-security-policy': "default-src 'none'; frame-ancestors 'none'" });
      return reply.type('text/html; charset=utf-8').send(NOT_BUILT);
    }
    reply.header('content-security-policy', PAGE_CSP);
    return reply.type('text/html; charset=utf-8').send(html);
  };

  app.get<{ Params: { name: string } }>('/assets/:name', async (req, reply) => {
    const name = req.params.name;
    // One plain file name: no folder, no dot-file, so nothing outside assets/ can be named.
    const ext = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}\.([a-z0-9]{1,8})$/.exec(name)?.[1];
    const type = ext ? TYPES[ext] : undefined;
    const path = join(webDir, 'assets', name);
    const found = type ? await stat(path).catch(() => null) : null;
    if (!type || !found?.isFile()) throw notFound(req.url.split('?')[0]!);
    reply.headers({
      ...COMMON,
      'content-type': type,
      'content-length': String(found.size),
      // The names carry the content's hash: a new build has new names.
      'cache-control': 'public, max-age=31536000, immutable',
    });
    return reply.send(createReadStream(path));
  });

  app.get('/', (_req, reply) => page(reply));
  app.get('/*', (req, reply) => {
    const path = req.url.split('?')[0]!;
    // The API and files keep their JSON 404; a client-side route (no dot in its last part) gets the page.
    if (path.startsWith('/api/') || path.startsWith('/assets/') || /\.[^/]*$/.test(path)) throw notFound(path);
    return page(reply);
  });
}
