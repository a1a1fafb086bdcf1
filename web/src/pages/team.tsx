import { type FormEvent, useId, useState } from 'react';
import type {
  AddedMember,
  Page as ApiPage,
  ApiToken,
  CreatedApiToken,
  Member,
  Role,
} from '../../../src/server/api/types.js';
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

function AddMember({ onAdded }: { onAdded: () => void }) {
  const { api } = useSigned();
  const id = useId();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('releaser');
  const [added, setAdded] = useState<AddedMember | null>(null);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      setAdded(
        await api.call<AddedMember>('POST', '/api/v1/members', { email: email.trim(), name: name.trim(), role }),
      );
      setEmail('');
      setName('');
      onAdded();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="card form" onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Add a member</h2>
      <div className="field">
        <label htmlFor={`${id}-email`}>E-mail</label>
        <input id={`${id}-email`} type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
      </div>
      <div className="field">
        <label htmlFor={`${id}-name`}>Member name</label>
        <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} maxLength={100} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-role`}>Member role</label>
        <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </div>
      <Problem error={error} />
      <button type="submit">Add member</button>
      {added && !added.signInPath ? (
        <div className="note" role="status">
          <p>
            {added.member.email} is {added.member.role}. They already have an account on this server and sign in as they
            do now.
          </p>
        </div>
      ) : added ? (
        <div className="note" role="status">
          <p>
            {added.member.email} is {added.member.role}. Send them this one-time sign-in link (shown{' '}
            <strong>this once</strong>, valid until {when(added.expiresAt)}):
          </p>
          <input
            aria-label="Sign-in link for the new member"
            readOnly
            value={`${location.origin}${added.signInPath}`}
            onFocus={(e) => e.target.select()}
            className="token"
          />
        </div>
      ) : null}
    </form>
  );
}

function Members() {
  const { api, role } = useSigned();
  const members = useLoad(() => api.get<ApiPage<Member>>('/api/v1/members'), [api]);
  const admin = role === 'owner' || role === 'admin';
  return (
    <>
      <h2>Members</h2>
      <Problem error={members.error} />
      {!members.data ? (
        <Loading what="members" />
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Members of the team</caption>
            <thead>
              <tr>
                <th scope="col">E-mail</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
              </tr>
            </thead>
            <tbody>
              {members.data.data.map((m) => (
                <tr key={m.id}>
                  <td>{m.email}</td>
                  <td>{m.name || '—'}</td>
                  <td>{m.disabled ? `${m.role} (disabled)` : m.role}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {admin ? <AddMember onAdded={members.reload} /> : null}
    </>
  );
}

export function TeamPage() {
  const { api, role, session, team } = useSigned();
  const admin = role === 'owner' || role === 'admin';
  const tokens = useLoad(
    () => (admin ? api.get<ApiPage<ApiToken>>('/api/v1/tokens') : Promise.resolve({ data: [], next: null })),
    [api, admin],
  );
  const [error, setError] = useState<unknown>(null);
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
      <Members />
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
