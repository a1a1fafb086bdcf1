import { useState } from 'react';
import type { AppView, AppWebhookView } from '../../../src/server/api/types.js';
import { ApiError } from '../api.js';
import { useSigned } from '../context.js';
import { Problem, useLoad, when } from '../ui.js';

/**
 * An app's App Store Connect webhook (docs/SERVER.md, "Incoming webhooks"): whether Apple holds it, for which
 * events, the last event, and the admin's "Rotate secret". No secret is ever shown: the server answers none.
 */
export function AppWebhook({ app }: { app: AppView }) {
  const { api, role } = useSigned();
  const admin = role === 'owner' || role === 'admin';
  // 404 means the server registered no webhook for the app (no --public-url, or the apps were not synced since).
  const hook = useLoad(
    () =>
      api
        .get<AppWebhookView>(`/api/v1/apps/${app.id}/webhook`)
        .catch((e: unknown) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e))),
    [api, app.id],
  );
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const rotate = async () => {
    if (!confirm(`Rotate the webhook secret of ${app.name || app.bundleId}? The old one is accepted for a while.`))
      return;
    setError(null);
    setStatus('Rotating…');
    try {
      const r = await api.call<{ previousSecretValidUntil: string }>('POST', `/api/v1/apps/${app.id}/webhook/rotate`);
      setStatus(`Rotated. The previous secret is accepted until ${when(r.previousSecretValidUntil)}.`);
      hook.reload();
    } catch (e) {
      setStatus(null);
      setError(e);
    }
  };
  if (hook.error) return <Problem error={hook.error} />;
  if (hook.data === undefined) return null;
  const w = hook.data;
  return (
    <div className="webhook">
      <p>
        Webhook:{' '}
        {w?.registered ? (
          <span className="state s-delivered">registered</span>
        ) : (
          <span className="state s-pending">not registered</span>
        )}{' '}
        <span className="muted">
          {' — '}
          {w
            ? `last event ${w.lastEventAt ? when(w.lastEventAt) : 'none yet'}`
            : 'deploys poll Apple (the server has no --public-url, or the apps were not loaded since)'}
        </span>
      </p>
      {w ? (
        <details>
          <summary>Event types</summary>
          <ul>
            {w.eventTypes.map((t) => (
              <li key={t}>
                <code>{t}</code>
              </li>
            ))}
          </ul>
          {w.previousSecretValidUntil ? (
            <p className="muted">The previous secret is accepted until {when(w.previousSecretValidUntil)}.</p>
          ) : null}
        </details>
      ) : null}
      {w && admin ? (
        <button type="button" onClick={rotate} aria-label={`Rotate the webhook secret of ${app.name || app.bundleId}`}>
          Rotate secret
        </button>
      ) : null}
      <span aria-live="polite">{status}</span>
      <Problem error={error} />
    </div>
  );
}
