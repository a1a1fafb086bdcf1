import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { Clock } from '../../core/clock.js';
import { AscendError, CATALOGUE, type ErrorCode } from '../../core/errors.js';
import type { TokenProvider } from '../../credentials/types.js';
import type { WorkerCredentials } from './protocol.js';

export type FetchFn = typeof fetch;

/** A worker's calls to its server's /api/v1/worker routes, with its worker token. */
export class WorkerApiClient {
  constructor(
    readonly server: string,
    private readonly token: string,
    private readonly fetchFn: FetchFn = fetch,
  ) {}

  /** Absolute URL of a path the server answered (signed artifact URLs are relative). */
  resolve(path: string): string {
    return new URL(path, `${this.server}/`).toString();
  }

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    raw?: { headers: Record<string, string>; body: ReadableStream<Uint8Array>; signal?: AbortSignal },
  ): Promise<T> {
    let res: Response;
    try {
      res = await this.fetchFn(this.resolve(path), {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...raw?.headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        // A streamed body (an artifact) is bounded by the job's run, not by the short timeout of a call.
        ...(raw ? { body: raw.body, duplex: 'half' } : {}),
        signal: raw ? (raw.signal ?? null) : AbortSignal.timeout(30_000),
      } as RequestInit);
    } catch (cause) {
      throw new AscendError('NETWORK_ERROR', `the server at ${new URL(this.server).origin} cannot be reached`, {
        cause,
        remedy: 'Check --server and that `ascend server start` runs there.',
      });
    }
    const json = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    if (res.ok && json) return json as T;
    const code = json?.error?.code;
    const known = code && code in CATALOGUE ? (code as ErrorCode) : 'NETWORK_ERROR';
    throw new AscendError(known, json?.error?.message ?? `the server answered ${res.status} to ${method} ${path}`);
  }

  me(): Promise<{ id: string; name: string }> {
    return this.call('GET', '/api/v1/worker/me');
  }

  credentials(jobId: string, worker: string): Promise<WorkerCredentials> {
    return this.call('POST', `/api/v1/worker/jobs/${encodeURIComponent(jobId)}/credentials`, { worker });
  }

  /** A leased build job's secret env values; held in memory for the run only. */
  async buildEnv(jobId: string, worker: string): Promise<Record<string, string>> {
    const res = await this.call<{ env: Record<string, string> }>(
      'POST',
      `/api/v1/worker/jobs/${encodeURIComponent(jobId)}/build-env`,
      { worker },
    );
    return res.env;
  }

  /**
   * Uploads a leased build job's artifact, streamed from disk (never read whole into memory); the server
   * stores and inspects it as POST /api/v1/artifacts does. Returns the artifact's id.
   */
  async uploadArtifact(jobId: string, worker: string, file: string, signal?: AbortSignal): Promise<string> {
    const { size } = await stat(file);
    const path = `/api/v1/worker/jobs/${encodeURIComponent(jobId)}/artifact`;
    const res = await this.call<{ id: string }>('POST', path, undefined, {
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(size),
        'x-filename': basename(file),
        'x-ascend-worker': worker,
      },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
      ...(signal ? { signal } : {}),
    });
    return res.id;
  }

  get bearer(): string {
    return this.token;
  }
}

/** Credentials are asked for again this long before they expire, so a request never carries a stale one. */
const MARGIN_MS = 2 * 60_000;

/**
 * One leased job's short-lived credentials, fetched on first use and again before expiry (or after Apple
 * answered 401, or the server 403 to a signed URL). Held in memory only, for the job's run.
 */
export class JobCredentials {
  private current: { creds: WorkerCredentials; until: number } | undefined;
  private inflight: Promise<WorkerCredentials> | undefined;

  constructor(
    private readonly api: WorkerApiClient,
    private readonly jobId: string,
    private readonly worker: string,
    private readonly clock: Clock,
  ) {}

  async get(opts: { fresh?: boolean } = {}): Promise<WorkerCredentials> {
    if (!opts.fresh && this.current && this.current.until > this.clock.now()) return this.current.creds;
    this.inflight ??= this.api
      .credentials(this.jobId, this.worker)
      .then((creds) => {
        const until =
          Math.min(Date.parse(creds.appStoreConnect.expiresAt), Date.parse(creds.artifact.expiresAt)) - MARGIN_MS;
        this.current = { creds, until };
        return creds;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  /** An App Store Connect TokenProvider over these credentials: the master key never leaves the server. */
  tokens(): TokenProvider {
    return {
      token: async () => (await this.get()).appStoreConnect.token,
      invalidate: (token) => {
        if (this.current?.creds.appStoreConnect.token === token) this.current = undefined;
      },
    };
  }

  /** The artifact's signed URL, absolute. */
  async artifactUrl(opts: { fresh?: boolean } = {}): Promise<string> {
    return this.api.resolve((await this.get(opts)).artifact.url);
  }
}
