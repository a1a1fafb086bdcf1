import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { systemClock } from '../../core/clock.js';
import { AscendError, CATALOGUE, type ErrorCode } from '../../core/errors.js';
import type { RunEvent, StepName, StepStatus } from '../../release/pipeline.js';
import type { Runtime } from '../runtime.js';
import { progressFor } from '../session.js';
import type { ArgsOf, OptionsOf } from '../spec.js';
import { deployOptions } from './release-flags.js';
import { renderEvents } from './release-render.js';

type Flags = OptionsOf<'push'>;

/** The server's error body (DESIGN §3.5) as the same typed error the CLI prints, exit code included. */
async function failure(res: Response, what: string): Promise<AscendError> {
  const body = (await res.json().catch(() => null)) as {
    error?: { code?: string; message?: string; remedy?: string };
  } | null;
  const e = body?.error;
  const code = (e?.code && e.code in CATALOGUE ? e.code : 'INTERNAL') as ErrorCode;
  return new AscendError(code, `the server refused ${what}: ${e?.message ?? `HTTP ${res.status}`}`, {
    ...(e?.remedy ? { remedy: e.remedy } : {}),
  });
}

/** fetch, with a server that cannot be reached reported as NETWORK_ERROR (exit 9) rather than a bug. */
async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (cause) {
    if ((init.signal as AbortSignal | undefined)?.aborted) throw (init.signal as AbortSignal).reason;
    throw new AscendError('NETWORK_ERROR', `the server at ${new URL(url).origin} cannot be reached`, {
      cause,
      remedy: 'Check --server (scheme, host and port) and that the server is running, then retry.',
    });
  }
}

function tokenOf(value: string, env: Readonly<Record<string, string | undefined>>): string {
  if (!value.startsWith('@env:')) return value;
  const v = env[value.slice(5)];
  if (!v) throw new AscendError('USAGE', `--token ${value}: the variable is not set`);
  return v.trim();
}

/** Parses a text/event-stream body into events, keeping the last id for a reconnect. */
async function* sse(body: ReadableStream<Uint8Array>): AsyncGenerator<{ id: number; event: string; data: unknown }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const f: Record<string, string> = {};
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon > 0) f[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
      }
      if (f.event && f.data) yield { id: Number(f.id ?? 0), event: f.event, data: JSON.parse(f.data) };
      end = buffer.indexOf('\n\n');
    }
  }
}

/** A server event as the pipeline's own event, so `--follow` shows what `ascend deploy` shows. */
function runEventOf(event: string, d: Record<string, unknown>): RunEvent | undefined {
  if (event === 'progress') return { type: 'progress', sent: Number(d.sent), total: Number(d.total) };
  if (event === 'log') return { type: 'note', text: String(d.text ?? '') };
  if (event === 'step' && d.status !== 'running') {
    const startedAt = Date.parse(String(d.startedAt ?? '')) || 0;
    const endedAt = Date.parse(String(d.endedAt ?? '')) || startedAt;
    return {
      type: 'step',
      step: d.step as StepName,
      status: d.status as StepStatus,
      detail: String(d.detail ?? ''),
      startedAt,
      endedAt,
      durationMs: endedAt - startedAt,
    };
  }
  return undefined;
}

/** Follows the deploy's events (reconnecting with Last-Event-ID) until it ends; returns its final state. */
async function follow(rt: Runtime, server: string, headers: Record<string, string>, id: string) {
  const show = renderEvents(progressFor(rt));
  let last = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    const res = await send(`${server}/api/v1/deploys/${encodeURIComponent(id)}/events`, {
      headers: { ...headers, ...(last ? { 'last-event-id': String(last) } : {}) },
      signal: rt.signal,
    });
    if (!res.ok || !res.body) throw await failure(res, 'the event stream');
    let final: Record<string, unknown> | undefined;
    for await (const e of sse(res.body)) {
      last = e.id;
      const d = e.data as Record<string, unknown>;
      if (e.event === 'state' && ['succeeded', 'failed', 'cancelled', 'awaiting_approval'].includes(String(d.state)))
        final = d;
      else if (e.event === 'state') final = undefined;
      const r = runEventOf(e.event, d);
      if (r) show(r);
    }
    if (final) return final;
  }
  throw new AscendError('NETWORK_ERROR', 'the event stream kept closing before the deploy ended', {
    remedy: `Check the server, then look at the deploy: ${server}/api/v1/deploys/${id}`,
  });
}

/**
 * `ascend push FILE --server URL --token T`: streams the build to the server, starts its deploy with the
 * deploy flags and, with --follow, shows it as `ascend deploy` would, ending with the same exit code.
 */
export async function run(rt: Runtime, [file]: ArgsOf<'push'>, flags: Flags): Promise<number> {
  const o = await deployOptions(file, flags, systemClock.now());
  const server = flags.server.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${tokenOf(flags.token, rt.config.env)}` };
  const size = await stat(file).then(
    (s) => s.size,
    () => {
      throw new AscendError('FILE_NOT_FOUND', `${file} does not exist or is not a file`);
    },
  );
  const up = await send(`${server}/api/v1/artifacts`, {
    method: 'POST',
    headers: {
      ...headers,
      'content-type': 'application/octet-stream',
      'content-length': String(size),
      'x-filename': basename(file),
    },
    body: Readable.toWeb(createReadStream(file)) as unknown as ReadableStream,
    duplex: 'half',
    signal: rt.signal,
  } as RequestInit);
  if (!up.ok) throw await failure(up, 'the build');
  const artifact = (await up.json()) as { id: string };
  const created = await send(`${server}/api/v1/deploys`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({
      artifactId: artifact.id,
      groups: o.groups,
      ...(o.whatsNew ? { whatsNew: o.whatsNew } : {}),
      locale: o.locale,
      ...(o.encryption ? { encryption: o.encryption } : {}),
      betaReview: o.betaReview,
      appStore: o.appStore,
      submitReview: o.submitReview,
      release: o.release,
      phased: o.phased,
    }),
    signal: rt.signal,
  });
  if (!created.ok) throw await failure(created, 'the deploy');
  const d = (await created.json()) as { id: string };
  if (!flags.follow) {
    if (rt.config.json) rt.out.json({ deploy: d.id, state: 'queued', artifact: artifact.id });
    else rt.out.print(`deploy ${d.id} queued on ${server}`);
    return 0;
  }
  const final = await follow(rt, server, headers, d.id);
  if (final.state === 'failed') {
    const e = final.error as { code?: string; message?: string; remedy?: string } | undefined;
    const code = (e?.code && e.code in CATALOGUE ? e.code : 'INTERNAL') as ErrorCode;
    throw new AscendError(code, `deploy ${d.id} failed: ${e?.message ?? 'see the server'}`, {
      ...(e?.remedy ? { remedy: e.remedy } : {}),
    });
  }
  if (final.state === 'cancelled')
    throw new AscendError('INTERRUPTED', `deploy ${d.id} was cancelled on the server`, {
      remedy: 'Retry it from the dashboard (POST /api/v1/deploys/:id/retry) to continue where it stopped.',
    });
  if (rt.config.json) rt.out.json({ deploy: d.id, state: final.state, step: final.step ?? null });
  else if (final.state === 'awaiting_approval')
    rt.out.print(`deploy ${d.id} waits for an admin's approval before ${String(final.step)}`);
  else rt.out.print(`deploy ${d.id} succeeded`);
  return 0;
}
