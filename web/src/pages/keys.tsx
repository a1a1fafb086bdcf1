import { type DragEvent, type FormEvent, useId, useRef, useState } from 'react';
import type { ApiKeyView, Page as ApiPage } from '../../../src/server/api/types.js';
import { ApiError, describe } from '../api.js';
import { useSigned } from '../context.js';
import { FieldError, fieldProps, Loading, Page, Problem, useLoad, when } from '../ui.js';

type FieldName = 'name' | 'keyId' | 'issuerId' | 'privateKey';

/** Which field an error code of `keys add` (src/credentials/key.ts) is about, to show it next to that field. */
export function fieldOf(code: string): FieldName | null {
  if (code === 'KEY_ID_INVALID') return 'keyId';
  if (code === 'ISSUER_ID_INVALID') return 'issuerId';
  if (code.startsWith('KEY_')) return 'privateKey';
  return null;
}

/** Apple names the download `AuthKey_<KEYID>.p8`: the Key ID is filled from it when the field is empty. */
function keyIdFromFilename(name: string): string | null {
  return /^AuthKey_([A-Z0-9]{10})\.p8$/.exec(name)?.[1] ?? null;
}

function AddKeyForm({ onAdded }: { onAdded: () => void }) {
  const { api, sandbox } = useSigned();
  const ids = useId();
  const [name, setName] = useState('');
  const [keyId, setKeyId] = useState('');
  const [issuerId, setIssuerId] = useState('');
  const [individual, setIndividual] = useState(false);
  const [file, setFile] = useState<{ name: string; text: string } | null>(null);
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [formError, setFormError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  // Reading a chosen file takes a moment; a submit right after the choice waits for it instead of calling
  // the file missing.
  const reading = useRef<Promise<{ name: string; text: string } | null> | null>(null);

  const take = async (f: File | undefined) => {
    if (!f) return;
    // A .p8 is about 250 bytes: a large file is refused before reading it.
    if (f.size > 16 * 1024) {
      setErrors((e) => ({ ...e, privateKey: `${f.name} is ${f.size} bytes; a .p8 key is under 1 kB [KEY_NOT_PEM]` }));
      setFile(null);
      return;
    }
    const read = f.text().then(
      (text) => ({ name: f.name, text }),
      () => null,
    );
    reading.current = read;
    const got = await read;
    if (reading.current !== read) return; // another file was chosen meanwhile
    reading.current = null;
    setFile(got);
    setErrors((e) => ({ ...e, privateKey: undefined }));
    const fromName = keyIdFromFilename(f.name);
    if (fromName && !keyId) setKeyId(fromName);
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    void take(e.dataTransfer.files[0]);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const chosen = file ?? (reading.current ? await reading.current : null);
    const missing: Partial<Record<FieldName, string>> = {};
    if (!name.trim()) missing.name = 'Give the key a name, e.g. "CI".';
    if (!keyId.trim()) missing.keyId = 'Enter the Key ID shown next to the key on Apple’s page.';
    if (!individual && !issuerId.trim()) missing.issuerId = 'Enter the Issuer ID shown above the keys on Apple’s page.';
    if (!chosen) missing.privateKey = 'Choose or drop the AuthKey_….p8 file you downloaded.';
    setErrors(missing);
    setFormError(null);
    if (Object.keys(missing).length || !chosen) return;
    setBusy(true);
    try {
      await api.call<ApiKeyView>('POST', '/api/v1/keys', {
        name: name.trim(),
        keyId,
        ...(individual ? { individual: true } : { issuerId }),
        privateKey: chosen.text,
      });
      setName('');
      setKeyId('');
      setIssuerId('');
      setFile(null);
      if (fileInput.current) fileInput.current.value = '';
      onAdded();
    } catch (err) {
      const field = err instanceof ApiError ? fieldOf(err.code) : null;
      if (field) {
        const d = describe(err);
        setErrors({ [field]: `${d.message} [${d.code}]` });
        document.getElementById(`${ids}-${field}`)?.focus();
      } else setFormError(err);
    } finally {
      setBusy(false);
    }
  };

  const field = (f: FieldName) => fieldProps(ids, f, errors);

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>Add a key</h2>
      <p className="note">
        Create the key in App Store Connect under{' '}
        <strong>Users and Access → Integrations → App Store Connect API</strong>. Give it <strong>App Manager</strong>{' '}
        access (or Admin): ascend needs that to upload builds and manage TestFlight. Apple lets you download the{' '}
        <code>.p8</code> file <strong>only once</strong>; keep it somewhere safe.
      </p>
      {sandbox ? (
        <p className="note sandbox">
          Sandbox: a second key to try this form is in <code>{sandbox.keyFile}</code> (Key ID{' '}
          <code>{sandbox.keyId}</code>
          {sandbox.issuerId ? (
            <>
              , Issuer ID <code>{sandbox.issuerId}</code>
            </>
          ) : null}
          ), just as Apple would give it to you.
        </p>
      ) : null}
      <div className="field">
        <label htmlFor={`${ids}-name`}>Name</label>
        <input {...field('name')} value={name} onChange={(e) => setName(e.target.value)} maxLength={64} />
        <p className="hint" id={`${ids}-name-hint`}>
          Yours to choose, e.g. “CI”.
        </p>
        <FieldError id={`${ids}-name-error`} error={errors.name} />
      </div>
      <div className="field">
        <label htmlFor={`${ids}-keyId`}>Key ID</label>
        <input
          {...field('keyId')}
          value={keyId}
          onChange={(e) => setKeyId(e.target.value)}
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={64}
        />
        <p className="hint" id={`${ids}-keyId-hint`}>
          10 letters and digits, in the key’s row on Apple’s page.
        </p>
        <FieldError id={`${ids}-keyId-error`} error={errors.keyId} />
      </div>
      <div className="field">
        <label htmlFor={`${ids}-issuerId`}>Issuer ID</label>
        <input
          {...field('issuerId')}
          value={issuerId}
          onChange={(e) => setIssuerId(e.target.value)}
          disabled={individual}
          spellCheck={false}
          maxLength={64}
        />
        <p className="hint" id={`${ids}-issuerId-hint`}>
          Shown above the list of team keys on Apple’s page.
        </p>
        <FieldError id={`${ids}-issuerId-error`} error={errors.issuerId} />
        <label className="check">
          <input type="checkbox" checked={individual} onChange={(e) => setIndividual(e.target.checked)} /> Individual
          key (it has no Issuer ID)
        </label>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-privateKey`}>Private key (.p8)</label>
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
          <input
            {...field('privateKey')}
            ref={fileInput}
            type="file"
            accept=".p8"
            onChange={(e) => void take(e.target.files?.[0])}
          />
          <span>{file ? `Chosen: ${file.name}` : 'Drop the AuthKey_….p8 file here, or choose it.'}</span>
        </div>
        <p className="hint" id={`${ids}-privateKey-hint`}>
          The file is read here and sealed in the server’s vault; it is never shown again.
        </p>
        <FieldError id={`${ids}-privateKey-error`} error={errors.privateKey} />
      </div>
      <Problem error={formError} />
      <button type="submit" disabled={busy}>
        {busy ? 'Checking with Apple…' : 'Add key'}
      </button>
    </form>
  );
}

function KeyRow({ k, onChange }: { k: ApiKeyView; onChange: () => void }) {
  const { api, role } = useSigned();
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const admin = role === 'owner' || role === 'admin';
  const check = async () => {
    setStatus('Checking…');
    setError(null);
    try {
      const v = await api.call<ApiKeyView>('POST', `/api/v1/keys/${k.id}/check`);
      setStatus(`Works with Apple (${v.role ?? 'role unknown'})`);
    } catch (e) {
      setStatus(null);
      setError(e);
    }
  };
  const revoke = async () => {
    if (!confirm(`Remove the key “${k.name}” (${k.keyId}) from ascend? Revoke it at Apple too.`)) return;
    try {
      await api.call('DELETE', `/api/v1/keys/${k.id}`);
      onChange();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <tr>
      <td>{k.name}</td>
      <td>
        <code>{k.keyId}</code>
      </td>
      <td>
        <code>{k.issuerId ?? 'individual'}</code>
      </td>
      <td>{k.role ?? '—'}</td>
      <td>
        <code className="fp">{k.fingerprint}</code>
      </td>
      <td>{when(k.createdAt)}</td>
      <td className="actions">
        <button type="button" onClick={check} aria-label={`Check ${k.name} with Apple`}>
          Check
        </button>
        {admin ? (
          <button type="button" className="danger" onClick={revoke} aria-label={`Revoke ${k.name}`}>
            Revoke
          </button>
        ) : null}
        <span aria-live="polite">{status}</span>
        <Problem error={error} />
      </td>
    </tr>
  );
}

export function KeysPage() {
  const { api, role } = useSigned();
  const keys = useLoad(() => api.get<ApiPage<ApiKeyView>>('/api/v1/keys'), [api]);
  const admin = role === 'owner' || role === 'admin';
  return (
    <Page title="API keys">
      <Problem error={keys.error} />
      {!keys.data ? (
        <Loading what="keys" />
      ) : keys.data.data.length === 0 ? (
        <p>No key yet. Add the App Store Connect API key ascend should use.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">App Store Connect API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key ID</th>
                <th scope="col">Issuer ID</th>
                <th scope="col">Role</th>
                <th scope="col">Fingerprint</th>
                <th scope="col">Added</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.data.map((k) => (
                <KeyRow key={k.id} k={k} onChange={keys.reload} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {admin ? <AddKeyForm onAdded={keys.reload} /> : <p>Only an admin can add keys.</p>}
    </Page>
  );
}
