import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  decide,
  forbiddenFamily,
  hasAppleCode,
  isTransientStatus,
  kindOfMethod,
  type RequestKind,
  transportMayResend,
} from './policy.js';

const P = DEFAULT_RETRY_POLICY;
const one = () => 1;
const KINDS: RequestKind[] = ['read', 'idempotent', 'create'];

describe('request policy: edges', () => {
  it('with maxAttempts 1 nothing is re-sent, yet a create with an unknown effect is still reconciled', () => {
    const single = { ...P, maxAttempts: 1 };
    for (const kind of KINDS)
      expect(decide(kind, { kind: 'answer', status: 429 }, 0, single, one)).toEqual({ action: 'final' });
    expect(decide('read', { kind: 'no-answer' }, 0, single, one)).toEqual({ action: 'final' });
    expect(decide('create', { kind: 'no-answer' }, 0, single, one)).toEqual({ action: 'reconcile' });
    // However many attempts were made, a create's lost answer is settled by reading, never dropped as final.
    expect(decide('create', { kind: 'answer', status: 502 }, 99, P, one)).toEqual({ action: 'reconcile' });
  });

  it('only 429 and 5xx are transient: every other answer is final for every kind, success and 4xx alike', () => {
    for (const status of [200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 499]) {
      expect(isTransientStatus(status), String(status)).toBe(false);
      for (const kind of KINDS) expect(decide(kind, { kind: 'answer', status }, 0, P, one).action).toBe('final');
    }
    for (const status of [429, 500, 502, 503, 504, 599]) expect(isTransientStatus(status), String(status)).toBe(true);
  });

  it('an idempotent write is re-sent after a 5xx and a 429 by the policy, but never by the HTTP layer after a 5xx', () => {
    expect(decide('idempotent', { kind: 'answer', status: 503 }, 0, P, one).action).toBe('resend');
    expect(decide('idempotent', { kind: 'answer', status: 429 }, 0, P, one)).toEqual({
      action: 'resend',
      delayMs: P.rateLimitBaseDelayMs,
    });
    expect(transportMayResend('PUT', { kind: 'answer', status: 503 })).toBe(false);
    expect(transportMayResend('DELETE', { kind: 'no-answer' })).toBe(false);
    expect(transportMayResend('head', { kind: 'no-answer' })).toBe(true);
  });

  it('a Retry-After of 0 is honoured as is; a hint replaces the backoff even when longer, up to 4× the cap', () => {
    expect(decide('read', { kind: 'answer', status: 429, retryAfterMs: 0 }, 3, P, one)).toEqual({
      action: 'resend',
      delayMs: 0,
    });
    expect(decide('read', { kind: 'answer', status: 503, retryAfterMs: 45_000 }, 0, P, one)).toEqual({
      action: 'resend',
      delayMs: 45_000,
    });
    expect(decide('read', { kind: 'answer', status: 503, retryAfterMs: P.maxDelayMs * 4 + 1 }, 0, P, one)).toEqual({
      action: 'resend',
      delayMs: P.maxDelayMs * 4,
    });
  });

  it('backoff ceilings double per attempt up to the cap, and stay finite for absurd attempt numbers', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, 500, 30_000, one));
    expect(ceilings).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(backoffDelay(5000, 500, 30_000, one)).toBe(30_000);
    expect(backoffDelay(5000, 500, 30_000, () => 0)).toBe(7500);
    for (let n = 0; n < 20; n++) {
      const d = backoffDelay(n, 500, 30_000, Math.random);
      expect(d).toBeGreaterThanOrEqual(Math.min(30_000, 500 * 2 ** n) / 4);
      expect(d).toBeLessThanOrEqual(Math.min(30_000, 500 * 2 ** n));
    }
  });

  it('methods are matched whatever their case; an unknown method is treated as a create', () => {
    expect(['get', 'Head', 'OPTIONS'].map(kindOfMethod)).toEqual(['read', 'read', 'read']);
    expect(['put', 'Patch', 'DELETE'].map(kindOfMethod)).toEqual(['idempotent', 'idempotent', 'idempotent']);
    expect(['post', 'PROPFIND', ''].map(kindOfMethod)).toEqual(['create', 'create', 'create']);
  });
});

describe('Apple error codes: edges', () => {
  it('a prefix matches only whole dot-separated segments, at any depth of associated errors', () => {
    const errors = [
      {
        code: 'ENTITY_ERROR.ATTRIBUTE.INVALID',
        meta: {
          associatedErrors: {
            '/v1/a': [{ code: 'X', meta: { associatedErrors: { '/v1/b': [{ code: 'STATE_ERROR.DEEP' }] } } }],
          },
        },
      },
    ];
    expect(hasAppleCode(errors, 'ENTITY')).toBe(false);
    expect(hasAppleCode(errors, 'ENTITY_ERROR.ATTRIBUTE.INVALID')).toBe(true);
    expect(hasAppleCode(errors, 'ENTITY_ERROR.ATTRIBUTE.INVALID.MORE')).toBe(false);
    expect(hasAppleCode(errors, 'STATE_ERROR')).toBe(true);
    expect(hasAppleCode([], 'STATE_ERROR')).toBe(false);
  });

  it('a 403 with no errors or no telling text is "other"; the agreement text is matched in any case', () => {
    expect(forbiddenFamily([])).toBe('other');
    expect(forbiddenFamily([{ code: 'FORBIDDEN_ERROR' }])).toBe('other');
    expect(forbiddenFamily([{ code: 'FORBIDDEN_ERROR', detail: 'You must accept the latest AGREEMENT' }])).toBe(
      'agreement',
    );
    expect(forbiddenFamily([{ code: 'FORBIDDEN_ERROR', title: 'Insufficient permission for this role' }])).toBe('role');
  });
});
