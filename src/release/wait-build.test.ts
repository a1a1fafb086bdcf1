import { describe, expect, it } from 'vitest';
import { doc, scriptedClient } from '../../test/helpers/asc-client.js';
import { waitForBuild } from './wait-build.js';

const build = (state: string) => doc('builds', 'b1', { version: '7', processingState: state });
const get = (state: string) => ({ expect: 'GET /v1/builds/b1', body: build(state) });

/** `ascend builds wait` and the deploy's processing step poll through this: on a fake clock, every request scripted. */
describe('waiting for a build', () => {
  it('polls a PROCESSING build with growing pauses until it is VALID, reporting each state once seen', async () => {
    const { client, clock } = scriptedClient([get('PROCESSING'), get('PROCESSING'), get('PROCESSING'), get('VALID')]);
    const seen: string[] = [];
    const started = clock.now();
    const b = await waitForBuild(client, 'b1', {
      deadline: started + 600_000,
      clock,
      sleep: clock.sleep,
      onState: (s) => seen.push(s),
    });
    expect(b.attributes?.processingState).toBe('VALID');
    expect(seen).toEqual(['PROCESSING', 'PROCESSING', 'PROCESSING', 'VALID']);
    // Three pauses, each no shorter than the one before, none past the 15 s cap.
    expect(clock.sleeps).toHaveLength(3);
    expect(clock.sleeps.every((ms, i) => ms <= 15_000 && (i === 0 || ms >= clock.sleeps[i - 1]!))).toBe(true);
  });

  it('stops at the deadline with DEADLINE_EXCEEDED (exit 8) instead of waiting on', async () => {
    const script = Array.from({ length: 40 }, () => get('PROCESSING'));
    const { client, clock } = scriptedClient(script, { partial: true });
    const err = await waitForBuild(client, 'b1', { deadline: clock.now() + 60_000, clock, sleep: clock.sleep }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'DEADLINE_EXCEEDED', exitCode: 8 });
    expect(clock.now()).toBeLessThanOrEqual(Date.UTC(2026, 0, 1) + 60_000 + 15_000);
  });

  it('a build Apple processed as INVALID is UPLOAD_REJECTED (exit 7)', async () => {
    const { client, clock } = scriptedClient([get('PROCESSING'), get('INVALID')]);
    await expect(
      waitForBuild(client, 'b1', { deadline: clock.now() + 600_000, clock, sleep: clock.sleep }),
    ).rejects.toMatchObject({ code: 'UPLOAD_REJECTED', exitCode: 7 });
  });
});
