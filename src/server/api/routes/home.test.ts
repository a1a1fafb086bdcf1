import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleError } from '../errors.js';
import { homeRoutes } from './home.js';

describe('the dashboard’s files at / (built by vite into a folder)', () => {
  const root = mkdtempSync(join(tmpdir(), 'ascend-web-'));
  const built = join(root, 'web');
  let app: FastifyInstance;
  let unbuilt: FastifyInstance;

  beforeAll(async () => {
    mkdirSync(join(built, 'assets'), { recursive: true });
    writeFileSync(
      join(built, 'index.html'),
      '<!doctype html><script type="module" src="/assets/index-AbC1.js"></script>',
    );
    writeFileSync(join(built, 'assets', 'index-AbC1.js'), 'console.log(1)');
    writeFileSync(join(built, 'assets', 'index-AbC1.css'), 'body{}');
    writeFileSync(join(built, 'assets', '.secret.js'), 'no');
    writeFileSync(join(root, 'outside.js'), 'no');
    app = Fastify();
    app.setErrorHandler(handleError);
    homeRoutes(app, built);
    unbuilt = Fastify();
    unbuilt.setErrorHandler(handleError);
    homeRoutes(unbuilt, join(root, 'missing'));
  });
  afterAll(async () => {
    await app.close();
    await unbuilt.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers / and every client-side route with index.html under a CSP allowing only this origin’s scripts', async () => {
    for (const url of ['/', '/keys', '/deploys/dep_123', '/deploys/new?x=1']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toMatch(/script-src 'self';/);
      expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('/assets/index-AbC1.js');
    }
  });

  it('serves hashed assets with their type and a year-long cache', async () => {
    const js = await app.inject({ method: 'GET', url: '/assets/index-AbC1.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    expect(js.body).toBe('console.log(1)');
    const css = await app.inject({ method: 'GET', url: '/assets/index-AbC1.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('names nothing outside assets/: traversal, dot-files, unknown types and missing files are JSON 404s', async () => {
    for (const url of [
      '/assets/..%2Foutside.js',
      '/assets/..%2F..%2Foutside.js',
      '/assets/.secret.js',
      '/assets/missing.js',
      '/assets/index-AbC1.exe',
      '/assets/sub/index-AbC1.js',
      '/api/v1/nothing-here',
      '/favicon.ico',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toBe('RESOURCE_NOT_FOUND');
    }
  });

  it('says how to build the dashboard when it was not built', async () => {
    const res = await unbuilt.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toMatch(/dashboard is not built\. Run <code>npm run build<\/code>/);
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });
});
