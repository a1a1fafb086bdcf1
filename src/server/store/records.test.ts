import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { createTeam } from '../accounts/teams.js';
import { listApps, upsertApps } from './apps.js';
import { createArtifact, findArtifactBySha, getArtifact } from './artifacts.js';
import { appendDeployEvent, createDeploy, getDeploy, listDeployEvents, listDeploys, updateDeploy } from './deploys.js';
import type { StoreDeps } from './ids.js';
import { getSettings, putSetting } from './settings.js';
import { describeStores } from './testing/dialects.js';

function deps(): StoreDeps & { clock: FakeClock } {
  return { clock: new FakeClock(), randomBytes: (n) => randomBytes(n) };
}
const SHA = 'a'.repeat(64);

describeStores('deploys, events, artifacts, apps, settings', (ctx) => {
  it('artifacts keep sizes above 4 GiB, strip control characters from names, and are team-scoped', async () => {
    const d = deps();
    const s = ctx.store();
    const [a, b] = [await createTeam(s, d, 'A'), await createTeam(s, d, 'B')];
    const big = 4 * 1024 ** 3 + 17;
    const art = await createArtifact(s, d, a.id, {
      sha256: SHA,
      size: big,
      filename: 'App\u001b[31m.ipa',
      facts: { bundleId: 'com.example' },
      findings: [{ code: 'X', severity: 'warning' }],
    });
    expect(art.filename).toBe('App?[31m.ipa');
    const back = await getArtifact(s, a.id, art.id);
    expect(back).toEqual(art);
    expect(back.size).toBe(big);
    expect((await findArtifactBySha(s, a.id, SHA))?.id).toBe(art.id);
    expect(await findArtifactBySha(s, b.id, SHA)).toBeUndefined();
    await expect(getArtifact(s, b.id, art.id)).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
  });

  it('deploys page newest first with a cursor, and another team sees none', async () => {
    const d = deps();
    const s = ctx.store();
    const [a, b] = [await createTeam(s, d, 'A'), await createTeam(s, d, 'B')];
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      // Two deploys share each instant: the id breaks the tie.
      if (i % 2 === 0) d.clock.advance(1000);
      ids.push((await createDeploy(s, d, a.id, { options: { n: i } })).id);
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof listDeploys>> = await listDeploys(s, a.id, { limit: 3, cursor });
      seen.push(...page.data.map((x) => x.options.n as number));
      cursor = page.next;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    const times = (await listDeploys(s, a.id, { limit: 7 })).data.map((x) => x.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    expect((await listDeploys(s, b.id)).data).toEqual([]);
    await expect(getDeploy(s, b.id, ids[0]!)).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    await expect(listDeploys(s, a.id, { cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('state changes are compare-and-set, with start and end times', async () => {
    const d = deps();
    const s = ctx.store();
    const team = await createTeam(s, d, 'T');
    const dep = await createDeploy(s, d, team.id, { options: {} });
    d.clock.advance(5000);
    const running = await updateDeploy(s, d, team.id, dep.id, { state: 'running', progress: 0.25 }, ['queued']);
    expect(running).toMatchObject({
      state: 'running',
      progress: 0.25,
      startedAt: new Date(d.clock.now()).toISOString(),
    });
    // A cancel arrives first; the worker's late "succeeded" is refused, not silently applied.
    await updateDeploy(s, d, team.id, dep.id, { state: 'cancelled' }, ['queued', 'running']);
    await expect(updateDeploy(s, d, team.id, dep.id, { state: 'succeeded' }, ['running'])).rejects.toMatchObject({
      code: 'DEPLOY_STATE_CONFLICT',
    });
    const final = await getDeploy(s, team.id, dep.id);
    expect(final.state).toBe('cancelled');
    expect(final.endedAt).not.toBeNull();
    expect(final.startedAt).toBe(running.startedAt);
    const failed = await createDeploy(s, d, team.id, { options: {} });
    const err = { code: 'UPLOAD_REJECTED', message: 'Apple said no', remedy: 'fix it' };
    const f = await updateDeploy(
      s,
      d,
      team.id,
      failed.id,
      { state: 'failed', error: err, steps: [{ step: 'upload', status: 'failed' }] },
      ['queued'],
    );
    expect(f).toMatchObject({ state: 'failed', error: err, steps: [{ step: 'upload', status: 'failed' }] });
  });

  it('events replay after a given id, in order, for their deploy only', async () => {
    const d = deps();
    const s = ctx.store();
    const team = await createTeam(s, d, 'E');
    const [x, y] = [
      await createDeploy(s, d, team.id, { options: {} }),
      await createDeploy(s, d, team.id, { options: {} }),
    ];
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) {
      seqs.push(await appendDeployEvent(s, d, team.id, x.id, 'progress', { i }));
      await appendDeployEvent(s, d, team.id, y.id, 'log', { other: i });
    }
    expect([...seqs].sort((p, q) => p - q)).toEqual(seqs);
    const after = await listDeployEvents(s, team.id, x.id, { afterSeq: seqs[1] });
    expect(after.map((e) => e.data)).toEqual([{ i: 2 }, { i: 3 }, { i: 4 }]);
    expect(after.map((e) => e.seq)).toEqual(seqs.slice(2));
    const other = await createTeam(s, d, 'Other');
    expect(await listDeployEvents(s, other.id, x.id)).toEqual([]);
  });

  it('apps upsert by App Store Connect id; settings round-trip per team', async () => {
    const d = deps();
    const s = ctx.store();
    const [a, b] = [await createTeam(s, d, 'A'), await createTeam(s, d, 'B')];
    await upsertApps(s, d, a.id, [{ ascAppId: '1', bundleId: 'com.x', name: 'X' }]);
    await upsertApps(s, d, a.id, [
      { ascAppId: '1', bundleId: 'com.x', name: 'X renamed' },
      { ascAppId: '2', bundleId: 'com.y', name: 'Y' },
    ]);
    expect((await listApps(s, a.id)).map((x) => [x.ascAppId, x.name])).toEqual([
      ['1', 'X renamed'],
      ['2', 'Y'],
    ]);
    expect(await listApps(s, b.id)).toEqual([]);
    await putSetting(s, d, a.id, 'approval', { before: ['submit-review'] });
    await putSetting(s, d, a.id, 'approval', { before: [] });
    expect(await getSettings(s, a.id)).toEqual({ approval: { before: [] } });
    expect(await getSettings(s, b.id)).toEqual({});
  });
});
