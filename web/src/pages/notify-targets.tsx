import { type FormEvent, useId, useState } from 'react';
import type { NotificationTarget } from '../../../src/server/api/types.js';
import { ApiError, describe } from '../api.js';
import { useSigned } from '../context.js';
import { DEFAULT_EVENTS, NOTIFY_EVENTS, type TargetField, targetFieldOf } from '../notify.js';
import { FieldError, fieldProps, Problem, when } from '../ui.js';

/** The generated secret, in the 201 only: shown here until dismissed, never kept anywhere else. */
function SecretOnce({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState<string>('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied.');
    } catch {
      setCopied('Copying is not allowed here: select the secret and copy it.');
    }
  };
  return (
    <div className="note secret-once" role="status" aria-label="New webhook secret">
      <p>
        The signing secret of <strong>{name}</strong>. Copy it now: <strong>it is not shown again</strong>. Your
        receiver checks <code>x-ascend-signature</code> (HMAC-SHA256 of the raw body) with it.
      </p>
      <code className="token" data-testid="target-secret">
        {secret}
      </code>
      <div className="row">
        <button type="button" onClick={copy}>
          Copy secret
        </button>
        <button type="button" onClick={onDone}>
          I have copied it
        </button>
        <span aria-live="polite">{copied}</span>
      </div>
    </div>
  );
}

export function AddTargetForm({ onAdded }: { onAdded: () => void }) {
  const { api } = useSigned();
  const ids = useId();
  const [kind, setKind] = useState<'webhook' | 'slack'>('webhook');
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState('');
  const [events, setEvents] = useState<string[]>([...DEFAULT_EVENTS]);
  const [errors, setErrors] = useState<Partial<Record<TargetField, string>>>({});
  const [formError, setFormError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [made, setMade] = useState<{ name: string; secret: string } | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const missing: Partial<Record<TargetField, string>> = {};
    if (!name.trim()) missing.name = 'Give the target a name, e.g. “Release channel”.';
    if (!url.trim()) missing.url = 'Enter the URL to POST to.';
    if (!events.length) missing.events = 'Choose at least one event.';
    setErrors(missing);
    setFormError(null);
    const first = Object.keys(missing)[0];
    if (first) {
      document.getElementById(`${ids}-${first}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const body = {
        kind,
        name: name.trim(),
        url: url.trim(),
        events,
        ...(kind === 'webhook' && secret ? { secret } : {}),
      };
      const t = await api.call<NotificationTarget & { secret?: string }>('POST', '/api/v1/notifications/targets', body);
      setMade(t.secret ? { name: t.name, secret: t.secret } : null);
      setName('');
      setUrl('');
      setSecret('');
      setEvents([...DEFAULT_EVENTS]);
      onAdded();
    } catch (err) {
      const d = describe(err);
      const field = err instanceof ApiError ? targetFieldOf(d.code, d.message) : null;
      if (field) {
        setErrors({ [field]: `${d.message} [${d.code}]` });
        document.getElementById(`${ids}-${field}`)?.focus();
      } else setFormError(err);
    } finally {
      setBusy(false);
    }
  };

  const field = (f: TargetField) => fieldProps(ids, f, errors);
  const toggle = (ev: string, on: boolean) =>
    setEvents((list) =>
      on ? NOTIFY_EVENTS.filter((e) => e === ev || list.includes(e)) : list.filter((e) => e !== ev),
    );

  return (
    <>
      {made ? <SecretOnce name={made.name} secret={made.secret} onDone={() => setMade(null)} /> : null}
      <form className="card form" onSubmit={submit} noValidate aria-labelledby={`${ids}-title`}>
        <h3 id={`${ids}-title`}>Add a target</h3>
        <fieldset>
          <legend>Kind</legend>
          <label className="check">
            <input type="radio" name={`${ids}-kind`} checked={kind === 'webhook'} onChange={() => setKind('webhook')} />{' '}
            JSON webhook (signed with a secret)
          </label>
          <label className="check">
            <input type="radio" name={`${ids}-kind`} checked={kind === 'slack'} onChange={() => setKind('slack')} />{' '}
            Slack (incoming webhook)
          </label>
        </fieldset>
        <div className="field">
          <label htmlFor={`${ids}-name`}>Target name</label>
          <input {...field('name')} value={name} onChange={(e) => setName(e.target.value)} maxLength={64} />
          <p className="hint" id={`${ids}-name-hint`}>
            Yours to choose, unique in the team.
          </p>
          <FieldError id={`${ids}-name-error`} error={errors.name} />
        </div>
        <div className="field">
          <label htmlFor={`${ids}-url`}>URL</label>
          <input
            {...field('url')}
            type="url"
            inputMode="url"
            spellCheck={false}
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            maxLength={2048}
          />
          <p className="hint" id={`${ids}-url-hint`}>
            {kind === 'slack'
              ? 'The incoming-webhook URL from your Slack app (https://hooks.slack.com/…). It is sealed in the vault.'
              : 'An https URL of a public host. Only its host is shown again; the rest is sealed in the vault.'}
          </p>
          <FieldError id={`${ids}-url-error`} error={errors.url} />
        </div>
        {kind === 'webhook' ? (
          <div className="field">
            <label htmlFor={`${ids}-secret`}>Signing secret (optional)</label>
            <input
              {...field('secret')}
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
              maxLength={256}
            />
            <p className="hint" id={`${ids}-secret-hint`}>
              16–256 characters. Leave empty and the server makes a <code>whsec_…</code> secret, shown once.
            </p>
            <FieldError id={`${ids}-secret-error`} error={errors.secret} />
          </div>
        ) : null}
        <fieldset
          id={`${ids}-events`}
          tabIndex={-1}
          aria-invalid={errors.events ? true : undefined}
          aria-describedby={errors.events ? `${ids}-events-error` : undefined}
        >
          <legend>Events</legend>
          <div className="events">
            {NOTIFY_EVENTS.map((ev) => (
              <label className="check" key={ev}>
                <input type="checkbox" checked={events.includes(ev)} onChange={(e) => toggle(ev, e.target.checked)} />{' '}
                <code>{ev}</code>
              </label>
            ))}
          </div>
          <FieldError id={`${ids}-events-error`} error={errors.events} />
        </fieldset>
        <Problem error={formError} />
        <button type="submit" disabled={busy}>
          {busy ? 'Adding…' : 'Add target'}
        </button>
      </form>
    </>
  );
}

export function TargetRow({
  t,
  admin,
  onRemoved,
  onTested,
}: {
  t: NotificationTarget;
  admin: boolean;
  onRemoved: () => void;
  onTested: () => void;
}) {
  const { api } = useSigned();
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const test = async () => {
    setError(null);
    setStatus('Sending…');
    try {
      await api.call('POST', `/api/v1/notifications/targets/${t.id}/test`);
      setStatus('Test queued: see Deliveries.');
      onTested();
    } catch (e) {
      setStatus(null);
      setError(e);
    }
  };
  const remove = async () => {
    if (!confirm(`Remove the notification target “${t.name}” (${t.host})? Its deliveries go with it.`)) return;
    setError(null);
    try {
      await api.call('DELETE', `/api/v1/notifications/targets/${t.id}`);
      onRemoved();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <tr>
      <td>{t.kind === 'slack' ? 'Slack' : 'JSON webhook'}</td>
      <td>{t.name}</td>
      <td className="event-list">
        {t.events.length === DEFAULT_EVENTS.length && DEFAULT_EVENTS.every((e) => t.events.includes(e))
          ? 'every event but test'
          : t.events.length === NOTIFY_EVENTS.length
            ? 'every event'
            : t.events.map((e) => <code key={e}>{e}</code>)}
      </td>
      <td>
        <code>{t.host}</code>
      </td>
      <td>{when(t.createdAt)}</td>
      <td className="actions">
        {admin ? (
          <>
            <button type="button" onClick={test} aria-label={`Send test to ${t.name}`}>
              Send test
            </button>
            <button type="button" className="danger" onClick={remove} aria-label={`Remove ${t.name}`}>
              Remove
            </button>
          </>
        ) : null}
        <span aria-live="polite">{status}</span>
        <Problem error={error} />
      </td>
    </tr>
  );
}
