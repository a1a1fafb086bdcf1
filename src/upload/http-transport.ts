import type { Readable } from 'node:stream';
import type { PartPlan } from './operations.js';
import { release } from './pool.js';

/** Sends one part: exactly its method, URL and headers, the body streamed, and no JWT (the URL is pre-signed). */
export type PartTransport = (
  part: PartPlan,
  body: Readable,
  signal: AbortSignal,
) => Promise<{ status: number; detail?: string }>;

/**
 * The default transport: Node's own http/https with a keep-alive pool of `connections` sockets, apart from the
 * API client's. (undici would add ~20 MB of resident code for what node:http does here.)
 */
export async function httpTransport(connections: number): Promise<PartTransport & { close(): Promise<void> }> {
  const http = await import('node:http');
  const https = await import('node:https');
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: connections }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: connections }),
  };
  const send: PartTransport = (part, body, signal) =>
    new Promise((resolve, reject) => {
      const url = new URL(part.url);
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(
        url,
        {
          method: part.method,
          headers: { ...part.headers, 'content-length': String(part.length) },
          agent: agents[url.protocol as 'http:' | 'https:'],
          signal,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            res.resume();
            res.on('end', () => resolve({ status }));
            res.on('error', reject);
            return;
          }
          // Storage services explain refusals in a small XML body (<Code>, <Message>): keep it for the error.
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            if (text.length < 500) text += d;
          });
          res.on('end', () => {
            const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
            const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1];
            resolve({
              status,
              detail: code ? `${code}: ${message ?? ''}`.trim() : text.replace(/\s+/g, ' ').slice(0, 200),
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      body.on('error', (err) => req.destroy(err));
      // Written chunk by chunk so each pooled buffer is released once the socket has taken it.
      (async () => {
        for await (const chunk of body) {
          const c = chunk as Buffer;
          if (!req.write(c, () => release(c))) await new Promise((r) => req.once('drain', r));
        }
        req.end();
      })().catch((err: Error) => req.destroy(err));
    });
  return Object.assign(send, {
    close: async () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  });
}
