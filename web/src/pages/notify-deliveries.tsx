import { useEffect, useId, useState } from 'react';
import type { Page as ApiPage, NotificationDelivery, NotificationTarget } from '../../../src/server/api/types.js';
import { useSigned } from '../context.js';
import { Loading, Problem, useLoad, when } from '../ui.js';

/** How often the list is read again while a delivery is pending (retries wait 10 s and more). */
const REFRESH_MS = 2000;

/** An attempt's answer: the status, and the error when it says more (a 500 is recorded as `HTTP 500` too). */
function answer(status: number | null, error: string | null): string {
  const http = status !== null ? `HTTP ${status}` : null;
  return [http, error !== http ? error : null].filter(Boolean).join(' · ');
}

function Attempts({ d }: { d: NotificationDelivery }) {
  if (!d.history.length) return <p className="muted">No attempt yet.</p>;
  return (
    <ol className="attempts">
      {d.history.map((h) => (
        <li key={h.attempt}>
          Attempt {h.attempt}: {answer(h.statusCode, h.error)} <span className="muted">{when(h.startedAt)}</span>
        </li>
      ))}
    </ol>
  );
}

function DeliveryRow({ d, target }: { d: NotificationDelivery; target: string }) {
  const [open, setOpen] = useState(false);
  const ids = useId();
  const last = answer(d.lastStatus, d.lastError);
  return (
    <>
      <tr>
        <td>
          <code>{d.event}</code>
        </td>
        <td>{target}</td>
        <td>
          <span className={`state s-${d.state}`}>{d.state}</span>
        </td>
        <td>{d.attempts}</td>
        <td>{last || '—'}</td>
        <td>
          {when(d.createdAt)}
          {d.deliveredAt ? <div className="muted">delivered {when(d.deliveredAt)}</div> : null}
          {d.state === 'pending' && d.nextAttemptAt ? (
            <div className="muted">next try {when(d.nextAttemptAt)}</div>
          ) : null}
        </td>
        <td>
          <button
            type="button"
            aria-expanded={open}
            aria-controls={`${ids}-history`}
            onClick={() => setOpen((o) => !o)}
            aria-label={`${open ? 'Hide' : 'Show'} attempts of ${d.event} to ${target}`}
          >
            {open ? 'Hide' : 'Attempts'}
          </button>
        </td>
      </tr>
      {open ? (
        <tr id={`${ids}-history`}>
          <td colSpan={7}>
            <Attempts d={d} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** Deliveries, newest first; read again while one is pending and whenever `tick` changes (a test was sent). */
export function Deliveries({ targets, tick }: { targets: NotificationTarget[]; tick: number }) {
  const { api } = useSigned();
  const ids = useId();
  const [targetId, setTargetId] = useState('');
  const list = useLoad(
    () =>
      api.get<ApiPage<NotificationDelivery>>(
        `/api/v1/notifications/deliveries?limit=50${targetId ? `&targetId=${encodeURIComponent(targetId)}` : ''}`,
      ),
    [api, targetId, tick],
  );
  const pending = list.data?.data.some((d) => d.state === 'pending') ?? false;
  // biome-ignore lint/correctness/useExhaustiveDependencies: each new answer still pending arms the next read
  useEffect(() => {
    if (!pending) return;
    const t = setTimeout(list.reload, REFRESH_MS);
    return () => clearTimeout(t);
  }, [pending, list.data, list.reload]);
  const nameOf = (id: string) => targets.find((t) => t.id === id)?.name ?? id;
  return (
    <section aria-labelledby={`${ids}-title`}>
      <div className="page-head">
        <h3 id={`${ids}-title`}>Deliveries</h3>
        <div className="row filters">
          <label htmlFor={`${ids}-target`}>Target</label>
          <select id={`${ids}-target`} value={targetId} onChange={(e) => setTargetId(e.target.value)}>
            <option value="">All targets</option>
            {targets.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
          <button type="button" onClick={list.reload}>
            Refresh
          </button>
        </div>
      </div>
      <Problem error={list.error} />
      {!list.data ? (
        <Loading what="deliveries" />
      ) : list.data.data.length === 0 ? (
        <p className="muted">No delivery yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="deliveries">
            <caption className="sr-only">Notification deliveries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Target</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">Times</th>
                <th scope="col">History</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((d) => (
                <DeliveryRow key={d.id} d={d} target={nameOf(d.targetId)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
