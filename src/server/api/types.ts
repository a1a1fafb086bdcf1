/**
 * The HTTP API's contract types (DESIGN §3.5), shared with the dashboard: the web app imports only this
 * file. Plain data, no imports.
 */
export type Role = 'owner' | 'admin' | 'releaser' | 'viewer';

export interface ErrorBody {
  error: { code: string; message: string; remedy: string };
}

export interface Page<T> {
  data: T[];
  next: string | null;
}

export interface Health {
  status: 'ok';
  database: 'sqlite' | 'postgres';
  queue: string;
  workers: number;
}

export interface SessionInfo {
  user: { id: string; email: string; name: string };
  teams: { id: string; name: string; role: Role }[];
  csrfToken: string;
  expiresAt: string;
}

export interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Answer to POST /api/v1/tokens: the token itself appears here once and never again. */
export interface CreatedApiToken extends ApiToken {
  token: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: { type: string; id: string | null };
  action: string;
  target: { type: string; id: string } | null;
  ip: string | null;
  userAgent: string | null;
  outcome: 'success' | 'failure' | 'denied';
  detail: Record<string, unknown> | null;
}
