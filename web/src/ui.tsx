import { type DependencyList, type ReactNode, useCallback, useEffect, useState } from 'react';
import { describe } from './api.js';

/** Loads on mount and when deps change; `reload` runs it again (after a write). */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(
    () => {
      let live = true;
      load().then(
        (d) => {
          if (!live) return;
          setData(d);
          setError(null);
        },
        (e) => {
          if (live) setError(e);
        },
      );
      return () => {
        live = false;
      };
    },
    // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what its load depends on
    deps,
  );
  useEffect(run, [run]);
  return { data, error, reload: run };
}

/** An error as the CLI shows it: the message, the remedy and the stable code. */
export function Problem({ error, id }: { error: unknown; id?: string }) {
  if (!error) return null;
  const e = describe(error);
  return (
    <div className="problem" role="alert" id={id}>
      <strong>{e.message}</strong> <code>[{e.code}]</code>
      {e.remedy ? <div>{e.remedy}</div> : null}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <p aria-live="polite">Loading {what}…</p>;
}

export function Page({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · ascend`;
  }, [title]);
  return (
    <>
      <div className="page-head">
        <h1>{title}</h1>
        {actions}
      </div>
      {children}
    </>
  );
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** A form field's error, read by screen readers through the field's aria-describedby. */
export function FieldError({ id, error }: { id: string; error: string | undefined }) {
  return error ? (
    <p className="field-error" id={id}>
      {error}
    </p>
  ) : null;
}

/** A form field's id and its link to its error (when it has one) or its hint. */
export function fieldProps<F extends string>(ids: string, f: F, errors: Partial<Record<F, string>>) {
  return {
    id: `${ids}-${f}`,
    'aria-invalid': errors[f] ? true : undefined,
    'aria-describedby': errors[f] ? `${ids}-${f}-error` : `${ids}-${f}-hint`,
  };
}
