import { useId, useState } from 'react';
import type { Page as ApiPage, NotificationTarget } from '../../../src/server/api/types.js';
import { useSigned } from '../context.js';
import { Loading, Problem, useLoad } from '../ui.js';
import { Deliveries } from './notify-deliveries.js';
import { AddTargetForm, TargetRow } from './notify-targets.js';

/**
 * Settings → Notifications: the team's targets, the form to add one and the deliveries. Its own chunk, loaded
 * when the settings page shows it (settings.tsx), so the first load stays small.
 */
export default function Notifications() {
  const { api, role } = useSigned();
  const ids = useId();
  const admin = role === 'owner' || role === 'admin';
  const targets = useLoad(() => api.get<ApiPage<NotificationTarget>>('/api/v1/notifications/targets'), [api]);
  const [tick, setTick] = useState(0);
  const bump = () => setTick((n) => n + 1);
  const list = targets.data?.data ?? [];
  return (
    <section className="card notifications" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>Notifications</h2>
      <p className="hint">
        Slack messages and signed JSON webhooks when a deploy starts, waits, lands or fails, and when an alert opens or
        resolves.
      </p>
      <Problem error={targets.error} />
      {!targets.data ? (
        <Loading what="notification targets" />
      ) : list.length === 0 ? (
        <p className="muted">No notification target yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Notification targets</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Name</th>
                <th scope="col">Events</th>
                <th scope="col">Host</th>
                <th scope="col">Added</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((t) => (
                <TargetRow
                  key={t.id}
                  t={t}
                  admin={admin}
                  onTested={bump}
                  onRemoved={() => {
                    targets.reload();
                    bump();
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {admin ? <AddTargetForm onAdded={targets.reload} /> : <p>Only an admin can add or remove targets.</p>}
      <Deliveries targets={list} tick={tick} />
    </section>
  );
}
