import type { FastifyInstance } from 'fastify';
import { getUser, teamsOf } from '../../accounts/teams.js';
import { type ApiContext, principalOf } from '../context.js';

/** Text for HTML: every name and email shown came from a person, so none of it is markup. */
function html(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // No script, no frame, nothing loaded from elsewhere: the page is text and links only.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function page(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>ascend</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code,pre{font:14px ui-monospace,monospace}pre{white-space:pre-wrap;background:#8881;padding:.75rem}</style></head><body><main>${body}</main></body></html>`;
}

const HOW_TO = `<h2>Deploy a build</h2>
<p>The web dashboard is not part of this version yet. Hand the server a build from CI or a terminal with the
API token written by <code>--write-admin-token</code> (with <code>npm start</code>: <code>.ascend/admin.token</code>):</p>
<pre>./bin/ascend push .ascend/sandbox/Sample.ipa --server &lt;this URL&gt; --token "$(cat .ascend/admin.token)" --group "Internal Testers" --follow</pre>
<p>Read what the server holds (these open here, with your session): <a href="/api/v1/apps">apps</a>,
<a href="/api/v1/deploys">deploys</a>, <a href="/api/v1/keys">API keys</a>, <a href="/api/v1/audit">audit log</a>,
<a href="/api/v1/health">health</a>. The whole API is described in docs/SERVER.md.</p>`;

/**
 * `GET /`: where the one-time sign-in link lands. Until the dashboard exists it says who is signed in and how to
 * deploy through the API, instead of a 404 after a successful sign-in.
 */
export function homeRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/', async (req, reply) => {
    reply.headers(PAGE_HEADERS);
    const p = await principalOf(ctx, req).catch(() => undefined);
    const user = p?.userId ? await getUser(ctx.store, p.userId) : undefined;
    if (p?.kind !== 'session' || !user) {
      return page(`<h1>ascend</h1><p>Not signed in. Open the <strong>Sign in</strong> link that
<code>ascend server start</code> printed (it works once), or sign in with <code>POST /api/v1/session</code>.</p>`);
    }
    const teams = await teamsOf(ctx.store, user.id);
    const list = teams.map((t) => `<li>${html(t.name)}: ${html(t.role)}</li>`).join('');
    return page(`<h1>ascend</h1><p>Signed in as <strong>${html(user.email)}</strong>.</p><ul>${list}</ul>${HOW_TO}`);
  });
}
