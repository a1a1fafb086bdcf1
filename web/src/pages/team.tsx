import { type FormEvent, useId, useState } from 'react';
import type { Page as ApiPage, ApiToken, CreatedApiToken, Role } from '../../../src/server/api/types.js';
import { useSigned } from '../context.js';
import { Loading, Page, Problem, useLoad, when } from '../ui.js';

const ROLES: Role[] = ['viewer', 'releaser', 'admin', 'owner'];

function NewToken({ onCreated }: { onCreated: () => void }) {
  const { api } = useSigned();
  const id = useId();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('releaser');
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      setCreated(await api.call<CreatedApiToken>('POST', '/api/v1/tokens', { name: name.trim(), role }));
      setName('');
      onCreated();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="card form" onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>New API token</h2>
      <div className="field">
        <label htmlFor={`${id}-name`}>Token name</label>
        <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} maxLength={64} required />
      </div>
      <div className="field">
        <label htmlFor={`${id}-role`}>Role</label>
        <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </div>
      <Problem error={error} />
      <button type="submit">Create token</button>
      {created ? (
        <div className="note" role="status">
          <p>
            The token <strong>{created.name}</strong>, shown <strong>this once</strong>; copy it now:
          </p>
          <input
            aria-label="The new token"
            readOnly
            value={created.token}
            onFocus={(e) => e.target.select()}
            className="token"
          />
        </div>
      ) : null}
    </form>
  );
}

export function TeamPage() {
  const { api, role, session, team } = useSigned();
  const tokens = useLoad(() => api.get<ApiPage<ApiToken>>('/api/v1/tokens'), [api]);
  const [error, setError] = useState<unknown>(null);
  const admin = role === 'owner' || role === 'admin';
  const revoke = async (t: ApiToken) => {
    if (!confirm(`Revoke the token “${t.name}”? Anything using it stops working.`)) return;
    try {
      await api.call('DELETE', `/api/v1/tokens/${t.id}`);
      tokens.reload();
    } catch (e) {
      setError(e);
    }
  };
  const current = session.teams.find((t) => t.id === team) ?? session.teams[0];
  return (
    <Page title="Team">
      <p>
        {current?.name}: you are <strong>{role}</strong> ({session.user.email}).
      </p>
      <h2>API tokens</h2>
      <Problem error={error ?? tokens.error} />
      {!tokens.data ? (
        <Loading what="tokens" />
      ) : tokens.data.data.length === 0 ? (
        <p>No API token yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">API tokens</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.data.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>
                    <code>{t.prefix}…</code>
                  </td>
                  <td>{t.role}</td>
                  <td>{when(t.createdAt)}</td>
                  <td>{when(t.lastUsedAt)}</td>
                  <td>
                    {t.revokedAt ? (
                      `revoked ${when(t.revokedAt)}`
                    ) : admin ? (
                      <button
                        type="button"
                        className="danger"
                        onClick={() => void revoke(t)}
                        aria-label={`Revoke ${t.name}`}
                      >
                        Revoke
                      </button>
                    ) : (
                      'active'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {admin ? <NewToken onCreated={tokens.reload} /> : null}
    </Page>
  );
}
