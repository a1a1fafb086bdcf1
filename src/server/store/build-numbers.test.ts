import { expect, it } from 'vitest';
import { FakeClock, seededRandom } from '../../core/clock.js';
import { createTeam } from '../accounts/teams.js';
import { allocateBuildNumber, appleFloor, listBuildNumbers } from './build-numbers.js';
import type { StoreDeps } from './ids.js';
import { describeStores } from './testing/dialects.js';

function deps(seed = 1): StoreDeps {
  const rnd = seededRandom(seed);
  return {
    clock: new FakeClock(),
    randomBytes: (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256))),
  };
}

it('Apple’s numbers set the floor: integers, dotted numbers rounded up, junk ignored', () => {
  expect(appleFloor([])).toBe(0);
  expect(appleFloor(['57', '9', '100'])).toBe(100);
  expect(appleFloor(['3.5'])).toBe(4);
  expect(appleFloor(['3.0'])).toBe(3);
  expect(appleFloor(['abc', '12'])).toBe(12);
});

describeStores('build number allocation', (ctx) => {
  it('starts above Apple’s highest and then above what was handed out', async () => {
    const d = deps(2);
    const team = await createTeam(ctx.store(), d, 'T');
    const train = { appId: '1234', version: '1.0', platform: 'IOS' };
    const a = await allocateBuildNumber(ctx.store(), d, team.id, { ...train, appleNumbers: ['41', '7'] });
    expect(a.buildNumber).toBe(42);
    const b = await allocateBuildNumber(ctx.store(), d, team.id, { ...train, appleNumbers: ['41'] });
    expect(b.buildNumber).toBe(43);
    // Apple has moved ahead (a build uploaded elsewhere): follow it.
    const c = await allocateBuildNumber(ctx.store(), d, team.id, { ...train, appleNumbers: ['90'] });
    expect(c.buildNumber).toBe(91);
    // Another train of the same app starts from its own numbers.
    const other = await allocateBuildNumber(ctx.store(), d, team.id, { ...train, version: '2.0', appleNumbers: [] });
    expect(other.buildNumber).toBe(1);
    const listed = await listBuildNumbers(ctx.store(), team.id, train);
    expect(listed.map((l) => l.buildNumber)).toEqual([42, 43, 91]);
  });

  it('50 concurrent calls get 50 distinct, consecutive numbers', async () => {
    const d = deps(3);
    const team = await createTeam(ctx.store(), d, 'Busy');
    const train = { appId: '999', version: '3.1', platform: 'IOS', appleNumbers: ['10'] };
    // On PostgreSQL a second pool adds connections: the calls really run at once on many sessions.
    const second = await ctx.openAnother();
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          allocateBuildNumber(i % 2 === 0 ? ctx.store() : second, deps(100 + i), team.id, train),
        ),
      );
      const numbers = results.map((r) => r.buildNumber).sort((x, y) => x - y);
      expect(new Set(numbers).size).toBe(50);
      expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => 11 + i));
    } finally {
      await second.close();
    }
  });

  it('another team’s allocations are invisible', async () => {
    const d = deps(4);
    const a = await createTeam(ctx.store(), d, 'A');
    const b = await createTeam(ctx.store(), d, 'B');
    const train = { appId: 'shared', version: '1', platform: 'IOS' };
    await allocateBuildNumber(ctx.store(), d, a.id, { ...train, appleNumbers: [] });
    expect(await listBuildNumbers(ctx.store(), b.id, train)).toEqual([]);
    expect((await allocateBuildNumber(ctx.store(), d, b.id, { ...train, appleNumbers: [] })).buildNumber).toBe(1);
  });
});
