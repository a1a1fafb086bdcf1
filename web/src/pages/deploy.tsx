import { useCallback, useEffect, useRef, useState } from 'react';
import type { Deploy } from '../../../src/server/api/types.js';
import { useSigned } from '../context.js';
import { Link } from '../router.js';
import { duration, Page, Problem, when } from '../ui.js';
import { ProgressBar } from './new-deploy.js';

type Step = Deploy['steps'][number];
const FINAL = ['succeeded', 'failed', 'cancelled'];

function stepMs(s: Step, now: number): number {
  if (!s.startedAt) return Number.NaN;
  return (s.endedAt ? Date.parse(s.endedAt) : now) - Date.parse(s.startedAt);
}

/** Merges a `step` event into the list: the step's last row is replaced, a new step is appended. */
function mergeStep(steps: Step[], row: Step): Step[] {
  const at = steps.findLastIndex((s) => s.step === row.step);
  if (at < 0) return [...steps, row];
  const next = [...steps];
  next[at] = { ...next[at]!, ...row };
  return next;
}

interface Upload {
  sent: number;
  total: number;
  startedAt: number;
  now: number;
}

export function DeployPage({ id }: { id: string }) {
  const { api, role } = useSigned();
  const [deploy, setDeploy] = useState<Deploy | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [log, setLog] = useState<string[]>([]);
  const [upload, setUpload] = useState<Upload | null>(null);
  const [following, setFollowing] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  const lastSeq = useRef(0);
  const logBox = useRef<HTMLPreElement>(null);

  // Follows the event stream from the last event seen; reconnects until the deploy ends or waits.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `following` restarts the stream after an action
  useEffect(() => {
    const stop = new AbortController();
    const run = async () => {
      for (let attempt = 0; !stop.signal.aborted; attempt++) {
        const d = await api.get<Deploy>(`/api/v1/deploys/${id}`);
        setDeploy((old) => ({
          ...d,
          steps: old && old.id === d.id && old.steps.length > d.steps.length ? old.steps : d.steps,
        }));
        await api.events(
          `/api/v1/deploys/${id}/events?after=${lastSeq.current}`,
          (e) => {
            if (e.id) lastSeq.current = e.id;
            if (e.type === 'log') setLog((l) => [...l, String(e.data.text ?? '')]);
            else if (e.type === 'step')
              setDeploy((d0) => d0 && { ...d0, steps: mergeStep(d0.steps, e.data as unknown as Step) });
            else if (e.type === 'progress') {
              const sent = Number(e.data.sent);
              const total = Number(e.data.total);
              const t = performance.now();
              setUpload((u) => ({ sent, total, startedAt: u?.startedAt ?? t, now: t }));
            } else if (e.type === 'state') {
              const data = e.data as { state: Deploy['state']; error?: Deploy['error'] };
              setDeploy((d0) => d0 && { ...d0, state: data.state, error: data.error ?? d0.error });
            } else if (e.type === 'approval') setLog((l) => [...l, `approved ${e.data.step} (${e.data.by})`]);
          },
          stop.signal,
        );
        const after = await api.get<Deploy>(`/api/v1/deploys/${id}`);
        setDeploy((d0) => ({ ...after, steps: d0 && d0.steps.length > after.steps.length ? d0.steps : after.steps }));
        if (FINAL.includes(after.state) || after.state === 'awaiting_approval') return;
        await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 5000)));
      }
    };
    run().catch((e) => {
      if (!stop.signal.aborted) setError(e);
    });
    return () => stop.abort();
  }, [api, id, following]);

  // Running steps show their time so far.
  useEffect(() => {
    if (!deploy || FINAL.includes(deploy.state)) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [deploy]);

  useEffect(() => {
    const box = logBox.current;
    if (box && log.length) box.scrollTop = box.scrollHeight;
  }, [log]);

  const act = useCallback(
    async (what: 'cancel' | 'retry' | 'approve') => {
      setActionError(null);
      try {
        const d = await api.call<Deploy>('POST', `/api/v1/deploys/${id}/${what}`);
        setDeploy((d0) => ({ ...d, steps: d0?.steps ?? d.steps }));
        if (what !== 'cancel') setFollowing((n) => n + 1);
      } catch (e) {
        setActionError(e);
      }
    },
    [api, id],
  );

  if (error) return <Problem error={error} />;
  if (!deploy) return <p aria-live="polite">Loading deploy {id}…</p>;
  const releaser = role !== 'viewer';
  const admin = role === 'owner' || role === 'admin';
  const options = deploy.options as { groups?: string[]; dryRun?: boolean };
  return (
    <Page title={`Deploy ${deploy.id}`}>
      <p>
        <span className={`state deploy-state s-${deploy.state}`} role="status" aria-live="polite">
          {deploy.state.replace('_', ' ')}
        </span>{' '}
        {options.dryRun ? <strong>dry run: nothing is changed at Apple</strong> : null}{' '}
        <span className="muted">
          started {when(deploy.createdAt)}
          {options.groups?.length ? ` · groups: ${options.groups.join(', ')}` : ''}
        </span>
      </p>
      {deploy.state === 'failed' && deploy.error ? (
        <div className="problem" role="alert">
          <strong>{deploy.error.message}</strong> <code>[{deploy.error.code}]</code>
          {deploy.error.remedy ? <div>Fix: {deploy.error.remedy}</div> : null}
        </div>
      ) : null}
      {deploy.state === 'awaiting_approval' ? (
        <p className="note">
          This deploy waits for an admin’s approval before its next step{admin ? '' : '; ask an admin of the team'}. The
          person who started it cannot approve it.
        </p>
      ) : null}
      <div className="row deploy-actions">
        <Link href="/deploys">All deploys</Link>
        {releaser && ['queued', 'running', 'awaiting_approval'].includes(deploy.state) ? (
          <button type="button" className="danger" onClick={() => void act('cancel')}>
            Cancel deploy
          </button>
        ) : null}
        {releaser && ['failed', 'cancelled'].includes(deploy.state) ? (
          <button type="button" onClick={() => void act('retry')}>
            Retry
          </button>
        ) : null}
        {admin && deploy.state === 'awaiting_approval' ? (
          <button type="button" className="primary" onClick={() => void act('approve')}>
            Approve
          </button>
        ) : null}
      </div>
      <Problem error={actionError} />
      <div className="upload-slot">
        {upload ? <ProgressBar label="Upload to Apple" p={upload} /> : <span className="muted">No upload yet.</span>}
      </div>
      <h2 id="log-h">Log</h2>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling log must be reachable by keyboard to scroll it */}
      <pre className="log" role="log" aria-labelledby="log-h" ref={logBox} tabIndex={0}>
        {log.join('\n')}
      </pre>
      <div className="table-wrap">
        <table className="steps">
          <caption>Steps</caption>
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Status</th>
              <th scope="col">Time</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {deploy.steps.map((s, i) => (
              <tr key={`${s.step}-${s.startedAt ?? i}`}>
                <td>{s.step}</td>
                <td>
                  <span className={`state s-${s.status}`}>{s.status}</span>
                </td>
                <td>{duration(stepMs(s, now))}</td>
                <td>{s.detail ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Page>
  );
}
