import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { createTeam } from '../accounts/teams.js';
import { appendAudit, listAudit } from './audit.js';
import type { StoreDeps } from './ids.js';
import { describeStores } from './testing/dialects.js';

const deps: StoreDeps = { clock: new FakeClock(), randomBytes: (n) => randomBytes(n) };
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();
const derB64 = pem.replace(/-----[A-Z ]+-----|\s/g, '');

describeStores('audit log', (ctx) => {
  const base = {
    actor: { type: 'user' as const, id: 'usr_1' },
    action: 'key.add',
    target: { type: 'key', id: 'key_1' },
    ip: '192.0.2.4',
    userAgent: 'curl/8',
    outcome: 'success' as const,
  };

  it('records who, what, when, from where and the outcome; pages newest first; scoped by team', async () => {
    const s = ctx.store();
    const [a, b] = [await createTeam(s, deps, 'A'), await createTeam(s, deps, 'B')];
    for (let i = 0; i < 5; i++) {
      await appendAudit(s, deps, { ...base, teamId: a.id, detail: { n: i, name: 'CI key' } });
    }
    await appendAudit(s, deps, { ...base, teamId: b.id, outcome: 'denied' });
    const first = await listAudit(s, a.id, { limit: 2 });
    expect(first.data.map((e) => e.detail?.n)).toEqual([4, 3]);
    expect(first.data[0]).toMatchObject({ teamId: a.id, actor: base.actor, action: 'key.add', ip: '192.0.2.4' });
    const second = await listAudit(s, a.id, { limit: 2, cursor: first.next });
    const third = await listAudit(s, a.id, { limit: 2, cursor: second.next });
    expect([...second.data, ...third.data].map((e) => e.detail?.n)).toEqual([2, 1, 0]);
    expect(third.next).toBeNull();
    expect((await listAudit(s, b.id)).data.map((e) => e.outcome)).toEqual(['denied']);
    await expect(listAudit(s, a.id, { cursor: 'drop table' })).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('the database refuses UPDATE and DELETE on the audit log', async () => {
    const s = ctx.store();
    const team = await createTeam(s, deps, 'T');
    const e = await appendAudit(s, deps, { ...base, teamId: team.id });
    await expect(sql`update audit_log set outcome = 'failure' where id = ${e.id}`.execute(s.db)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`delete from audit_log where id = ${e.id}`.execute(s.db)).rejects.toThrow(/append-only/);
    expect((await listAudit(s, team.id)).data).toHaveLength(1);
  });

  it('refuses details that look like secrets, and stores none of them', async () => {
    const s = ctx.store();
    const team = await createTeam(s, deps, 'Secrets');
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl';
    const bad: Record<string, unknown>[] = [
      { privateKey: pem },
      { privateKey: derB64 },
      { b64: Buffer.from(pem).toString('base64') },
      { token: jwt },
      { header: `Bearer ${jwt}` },
      { api: `asc_${'a'.repeat(52)}` },
      { url: 'https://bucket.s3.amazonaws.com/x?X-Amz-Signature=abc&X-Amz-Expires=3' },
      { nested: { deeper: [pem] } },
    ];
    for (const detail of bad) {
      await expect(appendAudit(s, deps, { ...base, teamId: team.id, detail })).rejects.toMatchObject({
        code: 'AUDIT_DETAIL_SECRET',
      });
    }
    await expect(
      appendAudit(s, deps, { ...base, teamId: team.id, target: { type: 'key', id: jwt } }),
    ).rejects.toMatchObject({
      code: 'AUDIT_DETAIL_SECRET',
    });
    expect((await listAudit(s, team.id)).data).toEqual([]);
    // Ordinary details pass: ids, names, Apple's ids and fingerprints.
    await appendAudit(s, deps, {
      ...base,
      teamId: team.id,
      detail: { keyId: 'ABCDE12345', fingerprint: 'SHA256:abc/def+ghi', name: 'CI key', buildNumber: '42' },
    });
    expect((await listAudit(s, team.id)).data).toHaveLength(1);
  });

  it('bounds a huge detail instead of storing it whole', async () => {
    const s = ctx.store();
    const team = await createTeam(s, deps, 'Big');
    const e = await appendAudit(s, deps, { ...base, teamId: team.id, detail: { blob: 'x'.repeat(100_000) } });
    expect(e.detail).toEqual({ truncated: true, bytes: JSON.stringify({ blob: 'x'.repeat(100_000) }).length });
  });
});
