import { type FormEvent, lazy, Suspense, useEffect, useState } from 'react';
import { useSigned } from '../context.js';
import { Loading, Page, Problem, useLoad } from '../ui.js';

// Its own chunk: the notification settings are the larger part of this page and most visits never reach it.
const Notifications = lazy(() => import('./notifications.js'));

interface Approvals {
  betaReview?: boolean;
  submitReview?: boolean;
}

export function SettingsPage() {
  const { api, role } = useSigned();
  const settings = useLoad(() => api.get<Record<string, unknown>>('/api/v1/settings'), [api]);
  const [approvals, setApprovals] = useState<Approvals>({});
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const admin = role === 'owner' || role === 'admin';
  useEffect(() => {
    if (settings.data) setApprovals((settings.data.approvals as Approvals | undefined) ?? {});
  }, [settings.data]);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    try {
      await api.call('PUT', '/api/v1/settings', { approvals });
      setSaved(true);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Page title="Settings">
      <Problem error={settings.error} />
      {!settings.data ? (
        <Loading what="settings" />
      ) : (
        <form className="card form" onSubmit={save}>
          <fieldset disabled={!admin}>
            <legend>Approval policy</legend>
            <p className="hint">
              Irreversible steps can wait for a second admin: the person who started a deploy cannot approve it.
            </p>
            <label className="check">
              <input
                type="checkbox"
                checked={approvals.betaReview === true}
                onChange={(e) => setApprovals((a) => ({ ...a, betaReview: e.target.checked }))}
              />{' '}
              Approve before submitting a build for external beta review
            </label>
            <label className="check">
              <input
                type="checkbox"
                checked={approvals.submitReview === true}
                onChange={(e) => setApprovals((a) => ({ ...a, submitReview: e.target.checked }))}
              />{' '}
              Approve before submitting a version for App Review
            </label>
          </fieldset>
          <Problem error={error} />
          {admin ? <button type="submit">Save settings</button> : <p>Only an admin can change settings.</p>}
          <span role="status">{saved ? 'Saved.' : ''}</span>
        </form>
      )}
      <Suspense fallback={<Loading what="notifications" />}>
        <Notifications />
      </Suspense>
    </Page>
  );
}
