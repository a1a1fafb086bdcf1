import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Ends the connection without an answer, for the `reset` and `drop-response` faults: the client sees a
 * reset, before or after the change was applied, and must reconcile.
 */
export function dropConnection(req: FastifyRequest, reply: FastifyReply): void {
  reply.hijack();
  req.raw.socket?.destroy();
}
