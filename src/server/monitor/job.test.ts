import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import type { ApiKey } from '../../credentials/types.js';
import { finding } from '../../doctor/types.js';
import { createTeam } from '../accounts/teams.js';
import { TableJobQueue } from '../queue/table-queue.js';
import { listAlerts } from '../store/alerts.js';
import type { StoreDeps } from '../store/ids.js';
import { addKey } from '../store/keys.js';
import type { Store } from '../store/open.js';
import { describeStores } from '../store/testing/dialects.js';
import { masterKeyOf } from '../vault/master-key.js';
import { Vault } from '../vault/vault.js';
import {
  MONITOR_EVERY_MS,
  MONITOR_JOB,
  MONITOR_KEY_JOB,
  monitorJobHandler,
  monitorKeyJobHandler,
  scheduleMonitor,
} from './job.js';

const T0 = Date.parse('2026-11-29T00:00:00Z');
const master = masterKeyOf(randomBytes(32));
const rejected = finding('KEY_REJECTED', { subject: 'key', message: 'Apple answers 401', fix: 'make a new key' });

const queued = async (s: Store) =>
  s.db.selectFrom('jobs').select(['run_at']).where('kind', '=', MONITOR_JOB).where('state', '=', 'queued').execute();
const jobContext = { id: 'job_x', kind: MONITOR_JOB, payload: {}, attempt: 1, signal: new AbortController().signal };

describeStores('monitor job', (ctx) => {
  it('queues one check job per key of every team, one failure does not stop the others, the next sweep is an hour on', async () => {
    const s = ctx.store();
    const clock = new FakeClock(T0);
    const deps: StoreDeps = { clock, randomBytes: (n) => randomBytes(n) };
    const vault = new Vault(s, { current: master }, deps);
    const keys: { teamId: string; keyRef: string; keyId: string }[] = [];
    for (const [name, keyId] of [
      ['one', 'AAAAA11111'],
      ['two', 'BBBBB22222'],
    ] as const) {
      const team = await createTeam(s, deps, name);
      const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString();
      const k = await addKey(s, vault, deps, team.id, {
        name: 'ci',
        keyId,
        issuerId: '69a6de7e-0000-47e3-e053-5b8c7c11a4d1',
        privateKey: pem,
      });
      keys.push({ teamId: team.id, keyRef: k.id, keyId });
    }
    const asked: string[] = [];
    // Key "one" fails for a reason other than a finding (network); key "two" is refused by Apple.
    const apple = {
      async findings(key: ApiKey) {
        asked.push(key.keyId);
        if (key.keyId === 'AAAAA11111') throw new AscendError('NETWORK_ERROR', 'connection reset');
        return [rejected];
      },
    };
    // The embedded queue over the jobs table, never worked here: the test runs the handlers itself.
    const queue = new TableJobQueue(s, deps, {
      worker: 'test',
      concurrency: 0,
      leaseMs: 60_000,
      pollMs: 10,
      sleep: clock.sleep,
    });
    const errors: [string, string][] = [];
    const m = { store: s, vault, deps, apple };
    const sweep = monitorJobHandler(m, queue, MONITOR_EVERY_MS);
    const checkOne = monitorKeyJobHandler(m, (ref, err) => errors.push([ref, (err as AscendError).code]));
    await sweep(jobContext);
    // The sweep asks Apple nothing itself: each key is its own job, under its own lease.
    expect(asked).toEqual([]);
    const perKey = async () =>
      s.db.selectFrom('jobs').select(['id', 'payload']).where('kind', '=', MONITOR_KEY_JOB).execute();
    const jobs = await perKey();
    expect(jobs.map((j) => JSON.parse(j.payload).keyRef).sort()).toEqual(keys.map((k) => k.keyRef).sort());
    // A sweep while those still wait queues none twice.
    await sweep(jobContext);
    expect(await perKey()).toHaveLength(2);
    for (const j of jobs)
      await checkOne({ ...jobContext, id: j.id, kind: MONITOR_KEY_JOB, payload: JSON.parse(j.payload) });
    expect(asked.sort()).toEqual(['AAAAA11111', 'BBBBB22222']);
    expect(errors).toEqual([[keys[0]!.keyRef, 'NETWORK_ERROR']]);
    expect((await listAlerts(s, keys[1]!.teamId, { state: 'open' })).map((a) => a.code)).toEqual(['KEY_REJECTED']);
    expect(await listAlerts(s, keys[0]!.teamId, { state: 'open' })).toEqual([]);
    expect(await queued(s)).toEqual([{ run_at: new Date(T0 + MONITOR_EVERY_MS).toISOString() }]);
    // A check whose worker died on its only attempt never runs again: the next sweep queues that key anew.
    const [dead, done] = jobs as [(typeof jobs)[0], (typeof jobs)[0]];
    await s.db
      .updateTable('jobs')
      .set({ state: 'running', attempts: 1, max_attempts: 1, lease_until: new Date(T0 - 1).toISOString() })
      .where('id', '=', dead.id)
      .execute();
    await s.db.updateTable('jobs').set({ state: 'succeeded' }).where('id', '=', done.id).execute();
    await sweep(jobContext);
    const fresh = (await perKey()).filter((j) => j.id !== dead.id && j.id !== done.id);
    expect(fresh.map((j) => JSON.parse(j.payload).keyRef).sort()).toEqual(keys.map((k) => k.keyRef).sort());
    // A restart while that sweep waits enqueues no second one.
    await scheduleMonitor(queue, T0 + 60_000);
    expect(await queued(s)).toHaveLength(1);
  });
});
