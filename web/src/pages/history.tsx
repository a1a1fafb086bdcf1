import { useState } from 'react';
import type { Page as ApiPage, Deploy } from '../../../src/server/api/types.js';
import { useSigned } from '../context.js';
import { Link } from '../router.js';
import { Loading, Page, Problem, useLoad, when } from '../ui.js';

const STATES = ['', 'queued', 'running', 'awaiting_approval', 'succeeded', 'failed', 'cancelled'] as const;

export function HistoryPage() {
  const { api } = useSigned();
  const [state, setState] = useState('');
  const [cursor, setCursor] = useState<string | null>(null);
  const q = new URLSearchParams({ limit: '25', ...(state ? { state } : {}), ...(cursor ? { cursor } : {}) });
  const page = useLoad(() => api.get<ApiPage<Deploy>>(`/api/v1/deploys?${q}`), [api, q.toString()]);
  return (
    <Page
      title="Deploys"
      actions={
        <Link className="button primary" href="/deploys/new">
          New deploy
        </Link>
      }
    >
      <div className="filters">
        <label>
          State{' '}
          <select
            value={state}
            onChange={(e) => {
              setState(e.target.value);
              setCursor(null);
            }}
          >
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s ? s.replace('_', ' ') : 'any'}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Problem error={page.error} />
      {!page.data ? (
        <Loading what="deploys" />
      ) : page.data.data.length === 0 ? (
        <p>No deploy{state ? ` in state ${state}` : ''} yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Deploys, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Deploy</th>
                <th scope="col">State</th>
                <th scope="col">Groups</th>
                <th scope="col">Started</th>
                <th scope="col">Ended</th>
              </tr>
            </thead>
            <tbody>
              {page.data.data.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Link href={`/deploys/${d.id}`}>{d.id}</Link>
                  </td>
                  <td>
                    <span className={`state s-${d.state}`}>{d.state.replace('_', ' ')}</span>
                  </td>
                  <td>{((d.options as { groups?: string[] }).groups ?? []).join(', ') || '—'}</td>
                  <td>{when(d.createdAt)}</td>
                  <td>{when(d.endedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="row">
        {cursor ? (
          <button type="button" onClick={() => setCursor(null)}>
            Newest
          </button>
        ) : null}
        {page.data?.next ? (
          <button type="button" onClick={() => setCursor(page.data?.next ?? null)}>
            Older
          </button>
        ) : null}
      </div>
    </Page>
  );
}
