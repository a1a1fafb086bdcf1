import { useState } from 'react';
import type { Page as ApiPage, AuditEntry } from '../../../src/server/api/types.js';
import { useSigned } from '../context.js';
import { Loading, Page, Problem, useLoad, when } from '../ui.js';

export function AuditPage() {
  const { api } = useSigned();
  const [cursor, setCursor] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const q = new URLSearchParams({ limit: '50', ...(cursor ? { cursor } : {}) });
  const page = useLoad(() => api.get<ApiPage<AuditEntry>>(`/api/v1/audit?${q}`), [api, q.toString()]);
  const rows = page.data?.data.filter((e) => !filter || e.action.includes(filter)) ?? [];
  return (
    <Page title="Audit log">
      <div className="filters">
        <label>
          Action contains <input value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="deploy." />
        </label>
      </div>
      <Problem error={page.error} />
      {!page.data ? (
        <Loading what="the audit log" />
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Audit log, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
                <th scope="col">Actor</th>
                <th scope="col">Target</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.id}>
                  <td>{when(e.at)}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>
                    <span className={`state s-${e.outcome}`}>{e.outcome}</span>
                  </td>
                  <td>
                    {e.actor.type} {e.actor.id ?? ''}
                  </td>
                  <td>{e.target ? `${e.target.type} ${e.target.id}` : '—'}</td>
                  <td>{e.ip ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page.data?.next ? (
        <button type="button" onClick={() => setCursor(page.data?.next ?? null)}>
          Older
        </button>
      ) : null}
    </Page>
  );
}
