import { useState } from 'react';
import type { Page as ApiPage, AppView, BuildView } from '../../../src/server/api/types.js';
import { useSigned } from '../context.js';
import { Link } from '../router.js';
import { Loading, Page, Problem, useLoad, when } from '../ui.js';
import { AppWebhook } from './app-webhook.js';

function Builds({ app }: { app: AppView }) {
  const { api } = useSigned();
  const builds = useLoad(() => api.get<ApiPage<BuildView>>(`/api/v1/apps/${app.id}/builds?limit=3`), [api, app.id]);
  if (builds.error) return <Problem error={builds.error} />;
  if (!builds.data) return <Loading what="builds" />;
  if (!builds.data.data.length) return <p className="muted">No build uploaded yet.</p>;
  return (
    <ul className="builds">
      {builds.data.data.map((b) => (
        <li key={b.id}>
          Build <strong>{b.buildNumber}</strong>{' '}
          <span className={`state s-${b.processingState ?? 'unknown'}`}>{b.processingState ?? 'unknown'}</span>{' '}
          <span className="muted">{when(b.uploadedDate)}</span>
        </li>
      ))}
    </ul>
  );
}

export function AppsPage() {
  const { api, role } = useSigned();
  const apps = useLoad(() => api.get<ApiPage<AppView>>('/api/v1/apps'), [api]);
  const [syncing, setSyncing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const sync = async () => {
    setSyncing(true);
    setError(null);
    try {
      await api.call('POST', '/api/v1/apps/sync');
      apps.reload();
    } catch (e) {
      setError(e);
    } finally {
      setSyncing(false);
    }
  };
  return (
    <Page
      title="Apps"
      actions={
        role !== 'viewer' ? (
          <div className="row">
            <button type="button" onClick={sync} disabled={syncing}>
              {syncing ? 'Loading from Apple…' : 'Load apps from Apple'}
            </button>
            <Link className="button primary" href="/deploys/new">
              New deploy
            </Link>
          </div>
        ) : null
      }
    >
      <Problem error={error ?? apps.error} />
      {!apps.data ? (
        <Loading what="apps" />
      ) : apps.data.data.length === 0 ? (
        <p>No app yet. Load the apps your keys can see from Apple, or deploy a build.</p>
      ) : (
        <ul className="cards">
          {apps.data.data.map((a) => (
            <li key={a.id} className="card">
              <h2>{a.name || a.bundleId}</h2>
              <p className="muted">
                <code>{a.bundleId}</code> · Apple ID {a.ascAppId}
              </p>
              <Builds app={a} />
              <AppWebhook app={a} />
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
