/**
 * What the server answers a worker asking for a leased job's credentials
 * (`POST /api/v1/worker/jobs/:jobId/credentials`). Both secrets are short-lived and never stored or logged.
 */
export interface WorkerCredentials {
  /** keyId names the Apple key (not secret): workers share its rate budget with the server through the database. */
  appStoreConnect: { token: string; expiresAt: string; keyId: string };
  artifact: {
    /** Path and query of the signed URL, resolved against the worker's --server URL. */
    url: string;
    size: number;
    sha256: string;
    filename: string;
    expiresAt: string;
  };
}
