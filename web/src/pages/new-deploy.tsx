import { type DragEvent, type FormEvent, useEffect, useId, useRef, useState } from 'react';
import type {
  ApiKeyView,
  Page as ApiPage,
  AppView,
  ArtifactView,
  BetaGroupView,
  CreateDeploy,
  Deploy,
} from '../../../src/server/api/types.js';
import { useSigned } from '../context.js';
import { navigate } from '../router.js';
import { bytes, duration, Page, Problem } from '../ui.js';

interface Progress {
  sent: number;
  total: number;
  startedAt: number;
  now: number;
}

/** Speed and time left from what was sent since the upload began. */
export function rate(p: { sent: number; total: number; startedAt: number; now: number }) {
  const s = (p.now - p.startedAt) / 1000;
  const speed = s > 0 ? p.sent / s : 0;
  const eta = speed > 0 ? ((p.total - p.sent) / speed) * 1000 : Number.NaN;
  return { speed, eta };
}

export function ProgressBar({ label, p }: { label: string; p: Progress }) {
  const { speed, eta } = rate(p);
  const pct = p.total > 0 ? Math.floor((p.sent / p.total) * 100) : 0;
  return (
    <div className="progress">
      <progress max={100} value={pct} aria-label={label} />
      <span className="progress-text">
        {p.total > 0 && p.sent >= p.total
          ? `100% · ${bytes(p.total)} sent`
          : `${pct}% · ${bytes(p.sent)} of ${bytes(p.total)} · ${speed > 0 ? `${bytes(speed)}/s · ${duration(eta)} left` : 'starting'}`}
      </span>
    </div>
  );
}

function Upload({ onDone }: { onDone: (a: ArtifactView) => void }) {
  const { api } = useSigned();
  const id = useId();
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [dragging, setDragging] = useState(false);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  const send = async (file: File | undefined) => {
    if (!file) return;
    setError(null);
    abort.current = new AbortController();
    const startedAt = performance.now();
    setProgress({ sent: 0, total: file.size, startedAt, now: startedAt });
    try {
      const art = await api.upload<ArtifactView>(
        file,
        (sent, total) => setProgress({ sent, total, startedAt, now: performance.now() }),
        abort.current.signal,
      );
      onDone(art);
    } catch (e) {
      setError(e);
      setProgress(null);
    }
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    void send(e.dataTransfer.files[0]);
  };
  return (
    <section className="card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>1. The build</h2>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: dropping is a pointer shortcut; the file field inside is the keyboard way */}
      <div
        className={dragging ? 'drop dragging' : 'drop'}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <label htmlFor={`${id}-file`}>Build (.ipa)</label>
        <input id={`${id}-file`} type="file" accept=".ipa" onChange={(e) => void send(e.target.files?.[0])} />
        <span>Drop the .ipa here, or choose it.</span>
      </div>
      {progress ? (
        <>
          <ProgressBar label="Upload to the server" p={progress} />
          {progress.sent < progress.total ? (
            <button type="button" onClick={() => abort.current?.abort()}>
              Cancel upload
            </button>
          ) : null}
        </>
      ) : null}
      <Problem error={error} />
    </section>
  );
}

/** The main app's identity from the inspection facts (`ipa inspect --json`'s `app`). */
function appFacts(art: ArtifactView): { bundleId?: string; shortVersion?: string; buildVersion?: string } {
  const app = art.facts?.app;
  return app && typeof app === 'object' ? (app as Record<string, string>) : {};
}

function Findings({ art }: { art: ArtifactView }) {
  const app = appFacts(art);
  return (
    <div>
      <p>
        <strong>{art.filename}</strong> ({bytes(art.size)}): <code>{app.bundleId ?? '—'}</code> version{' '}
        <strong>{app.shortVersion ?? '—'}</strong> build <strong>{app.buildVersion ?? '—'}</strong>
      </p>
      <h3>Preflight</h3>
      {art.findings.length === 0 ? (
        <p className="ok">No problem found.</p>
      ) : (
        <ul className="findings">
          {art.findings.map((f) => (
            <li key={`${f.code}-${f.subject ?? ''}-${f.message}`} className={`finding ${f.severity}`}>
              <strong>
                {f.severity}: {f.message}
              </strong>{' '}
              <code>[{f.code}]</code>
              <div>Fix: {f.fix}</div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The groups of the build's app at Apple; the apps are loaded from Apple first when the app is not known yet. */
function useGroups(bundleId: string | null) {
  const { api } = useSigned();
  const [groups, setGroups] = useState<BetaGroupView[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!bundleId) return;
    let live = true;
    (async () => {
      let apps = (await api.get<ApiPage<AppView>>('/api/v1/apps')).data;
      if (!apps.some((a) => a.bundleId === bundleId))
        apps = (await api.call<ApiPage<AppView>>('POST', '/api/v1/apps/sync')).data;
      const app = apps.find((a) => a.bundleId === bundleId);
      if (!app) return [];
      return (await api.get<ApiPage<BetaGroupView>>(`/api/v1/apps/${app.id}/groups`)).data;
    })().then(
      (g) => live && setGroups(g),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [api, bundleId]);
  return { groups, error };
}

function Options({ art }: { art: ArtifactView }) {
  const { api } = useSigned();
  const id = useId();
  const bundleId = appFacts(art).bundleId ?? null;
  const { groups, error: groupsError } = useGroups(bundleId);
  const [keys, setKeys] = useState<ApiKeyView[]>([]);
  const [keyId, setKeyId] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [whatsNew, setWhatsNew] = useState('');
  const [betaReview, setBetaReview] = useState(false);
  const [appStore, setAppStore] = useState(false);
  const [submitReview, setSubmitReview] = useState(false);
  const [releaseType, setReleaseType] = useState<'MANUAL' | 'AFTER_APPROVAL'>('AFTER_APPROVAL');
  const [phased, setPhased] = useState(false);
  const [encryption, setEncryption] = useState<'' | 'exempt' | 'non-exempt'>('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get<ApiPage<ApiKeyView>>('/api/v1/keys').then((k) => {
      setKeys(k.data);
      setKeyId((v) => v || (k.data[0]?.id ?? ''));
    }, setError);
  }, [api]);

  const go = async (dryRun: boolean, e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    const body: CreateDeploy = {
      artifactId: art.id,
      ...(keyId ? { keyId } : {}),
      groups: chosen,
      ...(whatsNew.trim() ? { whatsNew } : {}),
      ...(encryption ? { encryption } : {}),
      betaReview,
      appStore,
      submitReview: appStore && submitReview,
      ...(appStore ? { release: { type: releaseType }, phased } : {}),
      ...(dryRun ? { dryRun: true } : {}),
    };
    try {
      const d = await api.call<Deploy>('POST', '/api/v1/deploys', body);
      navigate(`/deploys/${d.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const toggle = (name: string, on: boolean) =>
    setChosen((c) => (on ? [...c.filter((x) => x !== name), name] : c.filter((x) => x !== name)));

  return (
    <form className="card form" onSubmit={(e) => void go(false, e)} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>2. Where it goes</h2>
      {keys.length > 1 ? (
        <div className="field">
          <label htmlFor={`${id}-key`}>API key</label>
          <select id={`${id}-key`} value={keyId} onChange={(e) => setKeyId(e.target.value)}>
            {keys.map((k) => (
              <option key={k.id} value={k.id}>
                {k.name} ({k.keyId})
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <fieldset>
        <legend>TestFlight groups</legend>
        {groupsError ? <Problem error={groupsError} /> : null}
        {!groups && !groupsError ? <p aria-live="polite">Loading the app’s groups from Apple…</p> : null}
        {groups && groups.length === 0 ? <p>This app has no TestFlight group yet.</p> : null}
        {groups?.map((g) => (
          <label key={g.id} className="check">
            <input
              type="checkbox"
              checked={chosen.includes(g.name)}
              onChange={(e) => toggle(g.name, e.target.checked)}
            />{' '}
            {g.name} <span className="muted">{g.isInternalGroup ? 'internal' : 'external'}</span>
          </label>
        ))}
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-wtt`}>What to Test</label>
        <textarea
          id={`${id}-wtt`}
          rows={3}
          maxLength={4000}
          value={whatsNew}
          onChange={(e) => setWhatsNew(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-enc`}>Export compliance</label>
        <select
          id={`${id}-enc`}
          value={encryption}
          onChange={(e) => setEncryption(e.target.value as typeof encryption)}
        >
          <option value="">As the build declares</option>
          <option value="exempt">Uses only exempt encryption</option>
          <option value="non-exempt">Uses non-exempt encryption</option>
        </select>
      </div>
      <label className="check">
        <input type="checkbox" checked={betaReview} onChange={(e) => setBetaReview(e.target.checked)} /> Submit for
        external beta review
      </label>
      <fieldset>
        <legend>App Store</legend>
        <label className="check">
          <input type="checkbox" checked={appStore} onChange={(e) => setAppStore(e.target.checked)} /> Prepare the App
          Store version with this build
        </label>
        {appStore ? (
          <>
            <label className="check">
              <input type="checkbox" checked={submitReview} onChange={(e) => setSubmitReview(e.target.checked)} />{' '}
              Submit for App Review
            </label>
            <div className="field">
              <label htmlFor={`${id}-rel`}>Release</label>
              <select
                id={`${id}-rel`}
                value={releaseType}
                onChange={(e) => setReleaseType(e.target.value as typeof releaseType)}
              >
                <option value="AFTER_APPROVAL">Automatically after approval</option>
                <option value="MANUAL">Manually</option>
              </select>
            </div>
            <label className="check">
              <input type="checkbox" checked={phased} onChange={(e) => setPhased(e.target.checked)} /> Phased release
              over 7 days
            </label>
          </>
        ) : null}
      </fieldset>
      <Problem error={error} />
      <div className="row">
        <button type="submit" className="primary" disabled={busy}>
          Deploy
        </button>
        <button type="button" disabled={busy} onClick={() => void go(true)}>
          Dry run (show the plan)
        </button>
      </div>
    </form>
  );
}

export function NewDeployPage() {
  const { sandbox } = useSigned();
  const [art, setArt] = useState<ArtifactView | null>(null);
  return (
    <Page title="New deploy">
      {sandbox ? (
        <p className="note sandbox">
          Sandbox: a sample build to try is <code>{sandbox.sampleIpa}</code>.
        </p>
      ) : null}
      <Upload onDone={setArt} />
      {art ? (
        <>
          <section className="card" aria-label="Preflight findings">
            <Findings art={art} />
          </section>
          <Options art={art} />
        </>
      ) : null}
    </Page>
  );
}
