import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { createTeam } from '../accounts/teams.js';
import { createArtifact } from './artifacts.js';
import { createDeploy, listDeploys } from './deploys.js';
import type { StoreDeps } from './ids.js';
import { migrate } from './migrate.js';
import { openStore } from './open.js';
import { refreshStatistics } from './statistics.js';
import { describeStores } from './testing/dialects.js';

const deps: StoreDeps = { clock: new FakeClock(), randomBytes: (n) => randomBytes(n) };

describeStores('table statistics', (ctx) => {
  it('after a fast growth, the deploys page walks the index instead of sorting the whole team', async () => {
    const s = await openStore(await ctx.freshLocation());
    try {
      await migrate(s);
      // Analysed while empty, as at a server's first start.
      const first = await refreshStatistics(s);
      expect(first.includes('deploys')).toBe(ctx.dialect === 'postgres');
      const team = await createTeam(s, deps, 'Busy');
      const art = await createArtifact(s, deps, team.id, {
        sha256: randomBytes(32).toString('hex'),
        size: 1,
        filename: 'App.ipa',
        facts: {},
        findings: [],
      });
      // One multi-row insert per 1,000 keeps the seeding short; createDeploy is checked to agree with them.
      await createDeploy(s, deps, team.id, { artifactId: art.id, keyRef: 'key_x', options: { groups: ['QA'] } });
      const template = await s.db.selectFrom('deploys').selectAll().executeTakeFirstOrThrow();
      for (let b = 0; b < 3; b++) {
        const rows = Array.from({ length: 1000 }, (_, i) => ({
          ...template,
          id: `dep_${b}${String(i).padStart(24, '0')}`,
          created_at: new Date(Date.parse(template.created_at) + b * 1000 + i).toISOString(),
        }));
        await s.db.insertInto('deploys').values(rows).execute();
      }
      expect((await listDeploys(s, team.id, { limit: 50 })).data).toHaveLength(50);
      const again = await refreshStatistics(s);
      if (ctx.dialect === 'sqlite') {
        expect(again).toEqual([]);
        return;
      }
      expect(again).toContain('deploys');
      const plan = await sql<{ 'QUERY PLAN': string }>`explain select * from deploys where team_id = ${team.id}
        order by created_at desc, id desc limit 51`.execute(s.db);
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).toContain('Index Scan Backward using deploys_team_created');
      expect(text).not.toContain('Sort');
      // Nothing changed since: nothing to analyse.
      expect(await refreshStatistics(s)).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
