export type Method = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
export type QueryValue = string | number | boolean | readonly (string | number)[] | undefined;

export interface AscRequest {
  method: Method;
  /** A path such as `/v1/apps`, or an absolute `links.next` URL on the same origin. */
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  signal?: AbortSignal;
}

/** What a layer sees: the request with its final URL, and the raw answer. */
export interface PreparedRequest {
  method: Method;
  url: string;
  /** The path without origin and query, for messages. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  attempt: number;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

export type Handler = (req: PreparedRequest) => Promise<RawResponse>;
export type Layer = (next: Handler) => Handler;

export const SAFE_METHODS: ReadonlySet<Method> = new Set(['GET', 'HEAD']);
