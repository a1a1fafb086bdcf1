import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  decide,
  forbiddenFamily,
  kindOfMethod,
  transportMayResend,
} from './policy.js';

const P = DEFAULT_RETRY_POLICY;
const half = () => 0.5;

describe('request policy', () => {
  it('re-sends reads after 429, 5xx and lost answers, until the attempts run out', () => {
    for (const outcome of [
      { kind: 'answer', status: 429 },
      { kind: 'answer', status: 503 },
      { kind: 'no-answer' },
    ] as const) {
      expect(decide('read', outcome, 0, P, half).action).toBe('resend');
      expect(decide('read', outcome, P.maxAttempts - 1, P, half).action).toBe('final');
    }
  });

  it('never re-sends a create whose effect is unknown: it is reconciled by reading', () => {
    expect(decide('create', { kind: 'answer', status: 500 }, 0, P, half)).toEqual({ action: 'reconcile' });
    expect(decide('create', { kind: 'no-answer' }, 0, P, half)).toEqual({ action: 'reconcile' });
    // Apple refuses a rate-limited request before acting on it, so a create may be re-sent after a 429.
    expect(decide('create', { kind: 'answer', status: 429 }, 0, P, half).action).toBe('resend');
  });

  it('re-sends idempotent writes after a lost answer, and treats client errors as final', () => {
    expect(decide('idempotent', { kind: 'no-answer' }, 1, P, half).action).toBe('resend');
    expect(decide('idempotent', { kind: 'answer', status: 409 }, 0, P, half).action).toBe('final');
    expect(decide('read', { kind: 'answer', status: 200 }, 0, P, half).action).toBe('final');
  });

  it('honours a Retry-After hint, capped, and waits longer after a 429 than after a 5xx', () => {
    expect(decide('read', { kind: 'answer', status: 503, retryAfterMs: 7000 }, 0, P, half)).toEqual({
      action: 'resend',
      delayMs: 7000,
    });
    const capped = decide('read', { kind: 'answer', status: 503, retryAfterMs: 10_000_000 }, 0, P, half);
    expect(capped).toEqual({ action: 'resend', delayMs: P.maxDelayMs * 4 });
    const after429 = decide('read', { kind: 'answer', status: 429 }, 0, P, half);
    const after5xx = decide('read', { kind: 'answer', status: 500 }, 0, P, half);
    expect(after429.action === 'resend' && after5xx.action === 'resend').toBe(true);
    if (after429.action === 'resend' && after5xx.action === 'resend')
      expect(after429.delayMs).toBeGreaterThan(after5xx.delayMs);
  });

  it('backs off exponentially within [ceiling/4, ceiling]', () => {
    expect(backoffDelay(0, 500, 30_000, () => 0)).toBe(125);
    expect(backoffDelay(3, 500, 30_000, () => 1)).toBe(4000);
    expect(backoffDelay(20, 500, 30_000, () => 1)).toBe(30_000);
  });

  it('lets the HTTP layer re-send writes only after a 429', () => {
    expect(kindOfMethod('GET')).toBe('read');
    expect(kindOfMethod('PATCH')).toBe('idempotent');
    expect(kindOfMethod('POST')).toBe('create');
    expect(transportMayResend('POST', { kind: 'answer', status: 429 })).toBe(true);
    expect(transportMayResend('POST', { kind: 'answer', status: 500 })).toBe(false);
    expect(transportMayResend('POST', { kind: 'no-answer' })).toBe(false);
    expect(transportMayResend('GET', { kind: 'no-answer' })).toBe(true);
  });
});

describe('403 families', () => {
  it('recognises an agreement by Apple code, nested ones included, before any text', () => {
    expect(forbiddenFamily([{ code: 'FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED', detail: 'x' }])).toBe(
      'agreement',
    );
    expect(
      forbiddenFamily([
        {
          code: 'FORBIDDEN_ERROR',
          detail: 'The API key in use does not allow this request',
          meta: { associatedErrors: { '/v1/apps': [{ code: 'FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED' }] } },
        },
      ]),
    ).toBe('agreement');
  });

  it('falls back to Apple wording for the role family, and says "other" for anything else', () => {
    expect(
      forbiddenFamily([{ code: 'FORBIDDEN_ERROR', detail: 'The API key in use does not allow this request' }]),
    ).toBe('role');
    expect(
      forbiddenFamily([{ code: 'FORBIDDEN_ERROR', title: 'This request is forbidden for security reasons' }]),
    ).toBe('other');
  });
});
