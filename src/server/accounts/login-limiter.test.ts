import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { LoginLimiter } from './login-limiter.js';

const POLICY = { perUser: 3, perIp: 5, windowMs: 60_000, maxEntries: 100 };

describe('login limiter', () => {
  it('locks an account after its failures, names the retry time, and lets it in after the window', () => {
    const clock = new FakeClock();
    const l = new LoginLimiter(clock, POLICY);
    for (let i = 0; i < 3; i++) {
      l.check('Ann@x.io', `10.0.0.${i}`);
      l.recordFailure('ann@x.io', `10.0.0.${i}`);
      clock.advance(1000);
    }
    let err: unknown;
    try {
      l.check('ann@x.io', '10.9.9.9');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: 'SIGN_IN_THROTTLED',
      details: { retryAt: new Date(clock.now() - 3000 + 60_000).toISOString() },
    });
    clock.advance(57_001);
    expect(() => l.check('ann@x.io', '10.9.9.9')).not.toThrow();
  });

  it('limits one address guessing many accounts', () => {
    const l = new LoginLimiter(new FakeClock(), POLICY);
    for (let i = 0; i < 5; i++) l.recordFailure(`user${i}@x.io`, '203.0.113.7');
    expect(() => l.check('fresh@x.io', '203.0.113.7')).toThrow(expect.objectContaining({ code: 'SIGN_IN_THROTTLED' }));
    expect(() => l.check('fresh@x.io', '203.0.113.8')).not.toThrow();
  });

  it('a success clears the account’s count but not the address’s', () => {
    const l = new LoginLimiter(new FakeClock(), POLICY);
    for (let i = 0; i < 2; i++) l.recordFailure('bob@x.io', '1.1.1.1');
    l.recordSuccess('bob@x.io');
    l.recordFailure('bob@x.io', '1.1.1.1');
    l.recordFailure('bob@x.io', '1.1.1.1');
    expect(() => l.check('bob@x.io', '2.2.2.2')).not.toThrow();
    l.recordFailure('bob@x.io', '1.1.1.1');
    expect(() => l.check('someone@x.io', '1.1.1.1')).toThrow(expect.objectContaining({ code: 'SIGN_IN_THROTTLED' }));
  });

  it('memory stays bounded under a flood of addresses', () => {
    const l = new LoginLimiter(new FakeClock(), POLICY);
    for (let i = 0; i < 1000; i++) l.recordFailure(`u${i}@x.io`, `10.${i >> 8}.${i & 255}.1`);
    expect(l.size).toBeLessThanOrEqual(100);
  });
});
