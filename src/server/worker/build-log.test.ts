import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { createTeam } from '../accounts/teams.js';
import { createDeploy, getDeploy, listDeployEvents } from '../store/deploys.js';
import { describeStores } from '../store/testing/dialects.js';
import { buildLog } from './build-log.js';

describeStores('build log', (ctx) => {
  it('stores the first lines live, then a marker and only the last lines; one row per batch', async () => {
    const s = ctx.store();
    const deps = { clock: new FakeClock(), randomBytes: (n: number) => randomBytes(n) };
    const team = await createTeam(s, deps, 'T');
    const d = await createDeploy(s, deps, team.id, {
      options: {},
      build: { command: ['make'], labels: [], artifact: 'a', timeoutMs: 1000, envNames: [] },
      steps: [{ step: 'build', status: 'waiting' }],
    });
    expect((await getDeploy(s, team.id, d.id)).build).toMatchObject({ command: ['make'] });
    const log = buildLog(s, deps, team.id, d.id, { maxStored: 25, tailLines: 3 });
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`);
    for (let i = 0; i < 100; i += 10) await log.onLines(lines.slice(i, i + 10));
    await log.finish();
    const events = await listDeployEvents(s, team.id, d.id);
    expect(events.map((e) => e.type)).toEqual(['log', 'log', 'log', 'log']);
    const texts = events.map((e) => (e.data as { text: string }).text);
    expect(texts.slice(0, 3).join('\n').split('\n')).toEqual(lines.slice(0, 25));
    expect(texts[3]!.split('\n')).toEqual(['… 72 lines not stored …', 'line 97', 'line 98', 'line 99']);
  });

  it('writes no marker when nothing was left out', async () => {
    const s = ctx.store();
    const deps = { clock: new FakeClock(), randomBytes: (n: number) => randomBytes(n) };
    const team = await createTeam(s, deps, 'U');
    const d = await createDeploy(s, deps, team.id, { options: {} });
    const log = buildLog(s, deps, team.id, d.id, { maxStored: 5 });
    await log.onLines(['a', 'b']);
    await log.finish();
    expect((await listDeployEvents(s, team.id, d.id)).map((e) => (e.data as { text: string }).text)).toEqual(['a\nb']);
  });
});
