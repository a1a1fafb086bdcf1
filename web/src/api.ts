/**
 * The dashboard's one way to the server: the JSON API of DESIGN §3.5, same origin, session cookie. Every
 * write carries the session's CSRF token (X-CSRF-Token); a 401 anywhere means the session ended.
 */
import type { ErrorBody } from '../../src/server/api/types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly remedy: string,
  ) {
    super(message);
  }
}

/** One per page load (main.tsx): the session's CSRF token and team, and what to do when the session ends. */
export class Api {
  csrf: string | null = null;
  team: string | null = null;
  constructor(private readonly onSignedOut: (reason: string) => void) {}

  private headers(write: boolean, extra?: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', ...extra };
    if (write && this.csrf) h['x-csrf-token'] = this.csrf;
    if (this.team) h['x-ascend-team'] = this.team;
    return h;
  }

  private async failure(res: Response): Promise<ApiError> {
    const body = (await res.json().catch(() => null)) as ErrorBody | null;
    const e = body?.error;
    const err = new ApiError(
      res.status,
      e?.code ?? 'INTERNAL',
      e?.message ?? `the server answered ${res.status}`,
      e?.remedy ?? 'Try again; if it keeps failing, look at the server log.',
    );
    if (res.status === 401) this.onSignedOut(err.message);
    return err;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: this.headers(method !== 'GET', body === undefined ? undefined : { 'content-type': 'application/json' }),
      body: body === undefined ? null : JSON.stringify(body),
    });
    if (!res.ok) throw await this.failure(res);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  /**
   * Server-Sent Events through fetch, not EventSource: EventSource cannot send the team header. Resolves
   * when the server ends the stream (the deploy ended or waits for an approval).
   */
  async events(
    path: string,
    onEvent: (e: { id: number; type: string; data: Record<string, unknown> }) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const res = await fetch(path, { headers: this.headers(false, { accept: 'text/event-stream' }), signal });
    if (!res.ok || !res.body) throw await this.failure(res);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        const field = (name: string) =>
          block
            .split('\n')
            .filter((l) => l.startsWith(`${name}: `))
            .map((l) => l.slice(name.length + 2))
            .join('\n');
        const data = field('data');
        if (data) onEvent({ id: Number(field('id')), type: field('event') || 'message', data: JSON.parse(data) });
      }
    }
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  /** The raw-body upload of POST /api/v1/artifacts: XMLHttpRequest, since only it reports upload progress. */
  upload<T>(file: File, onProgress: (sent: number, total: number) => void, signal: AbortSignal): Promise<T> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/v1/artifacts');
      for (const [k, v] of Object.entries(this.headers(true, { 'content-type': 'application/octet-stream' })))
        xhr.setRequestHeader(k, v);
      xhr.setRequestHeader('x-filename', file.name.replace(/[^\x20-\x7e]/g, '_'));
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText) as T);
        else this.failure(new Response(xhr.responseText, { status: xhr.status })).then(reject, reject);
      };
      xhr.onerror = () =>
        reject(new ApiError(0, 'NETWORK', 'the upload was interrupted', 'Check the connection and try again.'));
      xhr.onabort = () => reject(new ApiError(0, 'CANCELLED', 'the upload was cancelled', 'Choose the file again.'));
      signal.addEventListener('abort', () => xhr.abort());
      xhr.send(file);
    });
  }
}

export function describe(err: unknown): { code: string; message: string; remedy: string } {
  if (err instanceof ApiError) return { code: err.code, message: err.message, remedy: err.remedy };
  return { code: 'INTERNAL', message: String((err as Error)?.message ?? err), remedy: 'Reload the page.' };
}
