import { useState } from 'react';
import type { AlertView, Page as ApiPage } from '../../../src/server/api/types.js';
import { useSigned } from '../context.js';
import { Loading, Page, Problem, useLoad, when } from '../ui.js';

export function AlertsPage() {
  const { api, role } = useSigned();
  const [state, setState] = useState<'open' | 'resolved'>('open');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const list = useLoad(() => api.get<ApiPage<AlertView>>(`/api/v1/alerts?state=${state}`), [api, state]);
  const check = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.call('POST', '/api/v1/alerts/check', {});
      list.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Page
      title="Alerts"
      actions={
        role !== 'viewer' ? (
          <button type="button" onClick={check} disabled={busy}>
            {busy ? 'Checking…' : 'Check now'}
          </button>
        ) : null
      }
    >
      <div className="filters">
        <label>
          Show{' '}
          <select value={state} onChange={(e) => setState(e.target.value as typeof state)}>
            <option value="open">open alerts</option>
            <option value="resolved">resolved alerts</option>
          </select>
        </label>
      </div>
      <Problem error={error ?? list.error} />
      {!list.data ? (
        <Loading what="alerts" />
      ) : list.data.data.length === 0 ? (
        <p>No {state} alert: keys, certificates and profiles look fine.</p>
      ) : (
        <ul className="findings">
          {list.data.data.map((a) => (
            <li key={a.id} className={`finding ${a.severity}`}>
              <strong>
                {a.subject}: {a.message}
              </strong>{' '}
              <code>[{a.code}]</code>
              <div>Fix: {a.fix}</div>
              <div className="muted">
                first seen {when(a.firstSeenAt)}
                {a.expiresAt ? ` · expires ${when(a.expiresAt)}` : ''}
                {a.resolvedAt ? ` · resolved ${when(a.resolvedAt)}` : ''}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
