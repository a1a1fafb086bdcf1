import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Sleep } from '../../core/clock.js';
import { type AddressPolicy, guardedLookup, hostOf, isPrivateAddress } from './address-policy.js';

/** What one attempt ended with: an HTTP status, or a short error code (never the URL, never a body). */
export type PostResult = { statusCode: number } | { error: string };

/** How one notification is sent; tests may replace it, the server uses `httpPost`. */
export type Post = (url: string, headers: Record<string, string>, body: string) => Promise<PostResult>;

/** At most this much of a receiver's answer is read (and thrown away): a huge answer costs nothing. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs the body once, within `timeoutMs` (connect, send and answer together), to an address the policy
 * allows (checked again at connect, whatever the URL said when it was saved). No redirects are followed: a
 * 3xx is an answer, so a receiver cannot bounce the server to an internal address.
 */
export function httpPost(policy: AddressPolicy, sleep: Sleep, timeoutMs: number): Post {
  return (raw, headers, body) =>
    new Promise<PostResult>((resolve) => {
      const url = new URL(raw);
      const host = hostOf(url);
      if (isIP(host) !== 0 && !policy.allowPrivate && isPrivateAddress(host)) {
        resolve({ error: 'ADDRESS_REFUSED' });
        return;
      }
      const timer = new AbortController();
      let settled = false;
      const done = (r: PostResult) => {
        if (settled) return;
        settled = true;
        timer.abort();
        resolve(r);
      };
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            'user-agent': 'ascend-notify/1',
            ...headers,
          },
          lookup: guardedLookup(policy),
          agent: false,
        },
        (res) => {
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > MAX_RESPONSE_BYTES) {
              res.destroy();
              done({ statusCode: res.statusCode ?? 0 });
            }
          });
          res.on('end', () => done({ statusCode: res.statusCode ?? 0 }));
          res.on('error', () => done({ statusCode: res.statusCode ?? 0 }));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? 'NETWORK_ERROR' }));
      sleep(timeoutMs, timer.signal).then(
        () => {
          req.destroy();
          done({ error: 'TIMEOUT' });
        },
        () => {},
      );
      req.end(body);
    });
}
