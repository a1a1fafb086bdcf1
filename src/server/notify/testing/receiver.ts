import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the receiver saw it, with its signature checked against the secret it was given. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** null when the receiver had no secret (a Slack target). */
  signatureValid: boolean | null;
}

/** The answer to the nth request: a status, or 'hang' to never answer (a timeout). */
export type Reply = number | 'hang';

/**
 * A real HTTP server on 127.0.0.1 and a random port that records every POST and verifies
 * `x-ascend-signature` the way docs/SERVER.md tells receivers to. Test-only.
 */
export class Receiver {
  readonly received: Received[] = [];
  secret: string | null = null;
  private replies: Reply[] = [];
  private readonly hanging = new Set<() => void>();
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    let self: Receiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => self!.handle(req.url ?? '/', req.headers, Buffer.concat(chunks), res));
    });
    self = new Receiver(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Answers for the next requests, in order; afterwards 200. */
  answer(...replies: Reply[]): void {
    this.replies.push(...replies);
  }

  private handle(path: string, headers: IncomingHttpHeaders, raw: Buffer, res: import('node:http').ServerResponse) {
    const body = raw.toString('utf8');
    let signatureValid: boolean | null = null;
    if (this.secret !== null) {
      const expected = Buffer.from(`sha256=${createHmac('sha256', this.secret).update(raw).digest('hex')}`, 'utf8');
      const given = Buffer.from(String(headers['x-ascend-signature'] ?? ''), 'utf8');
      signatureValid = given.length === expected.length && timingSafeEqual(given, expected);
    }
    this.received.push({ path, headers, body, signatureValid });
    const reply = this.replies.shift() ?? 200;
    if (reply === 'hang') {
      this.hanging.add(() => res.destroy());
      return;
    }
    res.writeHead(reply, { 'content-type': 'text/plain' }).end('ok');
  }

  async close(): Promise<void> {
    for (const end of this.hanging) end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
