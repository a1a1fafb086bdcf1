import { useCallback, useEffect, useMemo, useState } from 'react';
import type { SandboxInfo, SessionInfo } from '../../src/server/api/types.js';
import { Api } from './api.js';
import { type Signed, SignedContext } from './context.js';
import { AlertsPage } from './pages/alerts.js';
import { AppsPage } from './pages/apps.js';
import { AuditPage } from './pages/audit.js';
import { DeployPage } from './pages/deploy.js';
import { HistoryPage } from './pages/history.js';
import { KeysPage } from './pages/keys.js';
import { NewDeployPage } from './pages/new-deploy.js';
import { SettingsPage } from './pages/settings.js';
import { TeamPage } from './pages/team.js';
import { Link, navigate, usePath } from './router.js';

const NAV = [
  ['/apps', 'Apps'],
  ['/deploys/new', 'New deploy'],
  ['/deploys', 'Deploys'],
  ['/keys', 'API keys'],
  ['/audit', 'Audit log'],
  ['/team', 'Team'],
  ['/settings', 'Settings'],
  ['/alerts', 'Alerts'],
] as const;

function route(path: string) {
  const p = path.split('?')[0]!;
  if (p === '/' || p === '/apps') return <AppsPage />;
  if (p === '/keys') return <KeysPage />;
  if (p === '/deploys/new') return <NewDeployPage />;
  if (p === '/deploys') return <HistoryPage />;
  const deploy = /^\/deploys\/([A-Za-z0-9_-]{1,64})$/.exec(p);
  if (deploy) return <DeployPage id={deploy[1]!} />;
  if (p === '/audit') return <AuditPage />;
  if (p === '/team') return <TeamPage />;
  if (p === '/settings') return <SettingsPage />;
  if (p === '/alerts') return <AlertsPage />;
  return (
    <>
      <h1>Not found</h1>
      <p>
        There is no page at <code>{p}</code>. <Link href="/apps">Go to the apps</Link>.
      </p>
    </>
  );
}

/** Signed out, or the session ended: the one-time link of `npm start` is the way in. */
function SignedOut({ reason }: { reason: string | null }) {
  useEffect(() => {
    document.title = 'Sign in · ascend';
    performance.mark('ascend:interactive');
  }, []);
  return (
    <main id="main" className="signed-out">
      <h1>ascend</h1>
      {reason ? (
        <p role="alert" className="problem">
          {reason}
        </p>
      ) : null}
      <p>
        You are not signed in. Open the <strong>Sign in:</strong> link that <code>npm start</code> (or{' '}
        <code>ascend server start</code>) printed in its terminal. Each link works once; restart the server for a new
        one.
      </p>
    </main>
  );
}

export function App() {
  const [signedOut, setSignedOut] = useState<string | null | undefined>(undefined);
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [sandbox, setSandbox] = useState<SandboxInfo | null>(null);
  const [team, setTeam] = useState<string | null>(null);
  const api = useMemo(
    () =>
      new Api((reason) => {
        setSession(null);
        setSignedOut(`Your session ended (${reason}). Sign in again.`);
      }),
    [],
  );
  const path = usePath();

  useEffect(() => {
    fetch('/api/v1/session', { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(async (res) => {
        if (!res.ok) return setSignedOut(null);
        const s = (await res.json()) as SessionInfo;
        api.csrf = s.csrfToken;
        setTeam(s.teams[0]?.id ?? null);
        setSession(s);
        const sb = await api.get<SandboxInfo>('/api/v1/sandbox').catch(() => null);
        setSandbox(sb);
      })
      .catch(() => setSignedOut('The server cannot be reached.'));
  }, [api]);

  // The session's expiry: sign out on the client at that time rather than fail the next click.
  useEffect(() => {
    if (!session) return;
    const ms = Date.parse(session.expiresAt) - Date.now();
    const t = setTimeout(
      () => {
        setSession(null);
        setSignedOut('Your session expired. Sign in again.');
      },
      Math.max(0, Math.min(ms, 2 ** 31 - 1)),
    );
    return () => clearTimeout(t);
  }, [session]);

  useEffect(() => {
    if (session) performance.mark('ascend:interactive');
  }, [session]);

  const signOut = useCallback(async () => {
    await api.call('DELETE', '/api/v1/session').catch(() => {});
    setSession(null);
    setSignedOut('You signed out.');
    navigate('/');
  }, [api]);

  const signed: Signed | null = useMemo(() => {
    if (!session) return null;
    api.team = team;
    const t = session.teams.find((x) => x.id === team) ?? session.teams[0];
    return { api, session, role: t?.role ?? 'viewer', sandbox, team };
  }, [api, session, sandbox, team]);

  if (signedOut !== undefined && !session) return <SignedOut reason={signedOut} />;
  if (!signed) return <p aria-live="polite">Loading…</p>;
  const current = path.split('?')[0];
  return (
    <SignedContext.Provider value={signed}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">ascend</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}>
                <Link href={href} aria-current={current === href ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          {signed.session.teams.length > 1 ? (
            <label>
              Team{' '}
              <select value={team ?? ''} onChange={(e) => setTeam(e.target.value)}>
                {signed.session.teams.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <span>{signed.session.teams[0]?.name}</span>
          )}{' '}
          <span className="muted">{signed.session.user.email}</span>{' '}
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1} key={team ?? ''}>
        {route(path)}
      </main>
    </SignedContext.Provider>
  );
}
