import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { toExitReport } from '../src/cli/exit.js';
import { systemClock } from '../src/core/clock.js';
import { JsonFileStateStore, MemoryStateStore, type StateStore } from '../src/core/state.js';
import { type UploadEvent, type UploadInput, uploadBuild, uploadStateKey } from '../src/release/upload-build.js';
import { buildIpa } from '../src/sample/builder.js';
import { httpTransport, type PartTransport } from '../src/upload/engine.js';
import { clientFor, quickSleep } from './helpers/deploy.js';

/**
 * Issue 10 item 13: resume state that is damaged, or that disagrees with Apple, is healed on the next run
 * instead of failing the same way forever. Each test first leaves a real half-done upload behind (part 3 is
 * refused for good), damages the saved state, and runs again.
 */
const MiB = 1024 * 1024;
let sims: Simulator[] = [];
let dirs: string[] = [];
let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  await Promise.all(sims.map((s) => s.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  sims = [];
  dirs = [];
  closers = [];
});

async function setup(build: string, simOptions: { refuseChecksums?: boolean } = {}) {
  const sim = await startSimulator({ processingSeconds: 0.2, partSizeBytes: MiB, ...simOptions });
  sims.push(sim);
  const dir = mkdtempSync(join(tmpdir(), 'ascend-heal-'));
  dirs.push(dir);
  const ipa = join(dir, 'app.ipa');
  await buildIpa(ipa, { version: '4.0.0', build, payloadBytes: 4 * MiB });
  const { client } = clientFor(sim, sim.createKey({ role: 'APP_MANAGER' }));
  const real = await httpTransport(2);
  closers.push(real.close);
  const input: UploadInput = {
    file: ipa,
    appId: '1000000001',
    platform: 'IOS',
    version: '4.0.0',
    buildNumber: build,
    concurrency: 1,
    wait: true,
    deadline: systemClock.now() + 60_000,
  };
  const events: UploadEvent[] = [];
  const run = (state: StateStore, transport: PartTransport = real) =>
    uploadBuild(input, {
      client,
      state,
      clock: systemClock,
      sleep: quickSleep,
      random: Math.random,
      transport,
      onEvent: (e) => events.push(e),
    });
  /** Parts 1 and 2 go through, part 3 is refused for good: a half-done upload stays behind. */
  const halfDone = async (state: StateStore) => {
    const refuseThird: PartTransport = (p, body, signal) =>
      p.partNumber === 3 ? Promise.resolve({ status: 400, detail: 'refused by the test' }) : real(p, body, signal);
    await expect(run(state, refuseThird)).rejects.toMatchObject({ code: 'UPLOAD_PART_FAILED' });
    expect(sim.store.list('buildUploads')).toHaveLength(1);
    return sim.store.list('buildUploads')[0]!.id;
  };
  const md5 = createHash('md5').update(readFileSync(ipa)).digest('hex');
  const heals = () =>
    events.filter((e) => e.type === 'step' && e.step === 'heal').map((e) => (e as { detail: string }).detail);
  return { sim, dir, input, run, halfDone, md5, heals, real, events, key: uploadStateKey(input) };
}

const states = (sim: Simulator) =>
  sim.store.list('buildUploads').map((u) => (u.attributes.state as { state: string }).state);

describe('damaged resume state is healed', () => {
  it('`{}` in place of the state: the half-done upload is continued, not crashed on', async () => {
    const { sim, run, halfDone, md5, heals, key } = await setup('31');
    const state = new MemoryStateStore();
    const first = await halfDone(state);
    await state.put(key, {});
    const r = await run(state);
    expect(r).toMatchObject({ uploadId: first, state: 'COMPLETE', md5, resumed: true });
    expect(heals()).toEqual([expect.stringContaining('is damaged (it does not describe the file')]);
    expect(states(sim)).toEqual(['COMPLETE']);
  }, 60_000);

  it('a state file that is not JSON (STATE_FILE_INVALID to a reader) is healed the same way', async () => {
    const { sim, dir, run, halfDone, md5, key } = await setup('32');
    const state = new JsonFileStateStore(join(dir, 'state'));
    const first = await halfDone(state);
    writeFileSync(state.pathOf(key), '{"uploadId": "');
    await expect(state.get(key)).rejects.toMatchObject({
      code: 'STATE_FILE_INVALID',
      remedy: expect.stringContaining(state.pathOf(key)),
    });
    const r = await run(state);
    expect(r).toMatchObject({ uploadId: first, state: 'COMPLETE', md5 });
    expect(states(sim)).toEqual(['COMPLETE']);
  }, 60_000);

  it('partsDone claiming every part: the parts Apple says it lacks are sent again, then the commit passes', async () => {
    const { sim, run, halfDone, md5, heals, key } = await setup('33');
    const state = new MemoryStateStore();
    await halfDone(state);
    const saved = (await state.get<{ partsDone: number[] }>(key))!;
    const total = (sim.store.list('buildUploadFiles')[0]!.attributes.uploadOperations as unknown[]).length;
    expect(saved.partsDone).toEqual([1, 2]);
    await state.put(key, { ...saved, partsDone: Array.from({ length: total }, (_, i) => i + 1) });
    const before = sim.stats.get('PUT /__upload') ?? 0;
    const r = await run(state);
    expect(r).toMatchObject({ state: 'COMPLETE', md5 });
    expect(heals()).toEqual([`Apple lacks ${total - 2} part(s); sending them again`]);
    // Only the parts Apple lacked were sent again.
    expect((sim.stats.get('PUT /__upload') ?? 0) - before).toBe(total - 2);
    expect(states(sim)).toEqual(['COMPLETE']);
  }, 60_000);

  it('a lost operations file: the operations are read again from App Store Connect', async () => {
    const { sim, run, halfDone, md5, key } = await setup('34');
    const state = new MemoryStateStore();
    const first = await halfDone(state);
    await state.delete(`${key}-operations`);
    const reads = sim.stats.get('GET /v1/buildUploadFiles/{id}') ?? 0;
    const r = await run(state);
    expect(r).toMatchObject({ uploadId: first, state: 'COMPLETE', md5 });
    expect(sim.stats.get('GET /v1/buildUploadFiles/{id}') ?? 0).toBeGreaterThan(reads);
    expect(states(sim)).toEqual(['COMPLETE']);
  }, 60_000);

  it('a part damaged on the way (checksum mismatch at commit): the upload is replaced, never two live', async () => {
    const { sim, run, md5, heals, real, events } = await setup('35');
    let damagedFile: string | undefined;
    // The first upload's part 2 arrives with one byte changed (same length, so Apple accepts the part).
    const damaging: PartTransport = async (p, body, signal) => {
      const fileId = new URL(p.url).pathname.split('/')[2]!;
      damagedFile ??= fileId;
      if (p.partNumber !== 2 || fileId !== damagedFile) return real(p, body, signal);
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(Buffer.from(c as Buffer));
      const bytes = Buffer.concat(chunks);
      bytes[0] = bytes[0]! ^ 0xff;
      return real(p, Readable.from([bytes]), signal);
    };
    const r = await run(new MemoryStateStore(), damaging);
    expect(r).toMatchObject({ state: 'COMPLETE', md5 });
    expect(heals()).toEqual([expect.stringMatching(/does not match the file .*replacing the upload/)]);
    expect(sim.store.list('buildUploads').map((u) => u.id)).toEqual([r.uploadId]);
    expect(sim.store.list('buildUploadFiles').map((f) => f.id)).not.toContain(damagedFile);
    expect(states(sim)).toEqual(['COMPLETE']);
    // Nothing reported along the way carries a pre-signed part URL.
    expect(JSON.stringify(events)).not.toMatch(/[?&](sig|exp)=|__upload/);
  }, 60_000);

  it('a commit whose checksum Apple refuses (409 at sourceFileChecksums) is sent again without one, once', async () => {
    // Issue 10 item 26: Apple was seen refusing sourceFileChecksums; the parts were already checked one by one.
    const { sim, run, md5 } = await setup('9', { refuseChecksums: true });
    const r = await run(new MemoryStateStore());
    expect(r.buildId).toBeTruthy();
    expect(states(sim)).toEqual(['COMPLETE']);
    // The refused commit changed nothing; the second one, without a checksum, completed the file.
    expect(sim.stats.get('PATCH /v1/buildUploadFiles/{id}')).toBe(2);
    const file = sim.store.list('buildUploadFiles')[0]!;
    expect(file.attributes.sourceFileChecksums).toMatchObject({ file: { hash: md5 } });
  });

  it('a full disk while saving part progress stops the upload in one line (STATE_WRITE_FAILED), and the next run resumes', async () => {
    const { sim, run, md5, key, real } = await setup('37');
    // A store that fills up once two parts are recorded: ENOSPC, as a real disk says it.
    let full = true;
    class FillingStore extends MemoryStateStore {
      override async put<T>(k: string, v: T): Promise<void> {
        const parts = (v as { partsDone?: number[] } | undefined)?.partsDone?.length ?? 0;
        if (full && k === key && parts >= 2)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return super.put(k, v);
      }
    }
    const state = new FillingStore();
    const sent: number[] = [];
    const counting: PartTransport = (p, body, signal) => {
      sent.push(p.partNumber);
      return real(p, body, signal);
    };
    const err = await run(state, counting).catch((e) => e);
    expect(toExitReport(err)).toMatchObject({ code: 'STATE_WRITE_FAILED', exitCode: 6 });
    expect(err.message).toMatch(/^cannot save the upload's progress to the saved state upload-.*: ENOSPC/);
    expect(err.message).not.toContain('\n');
    // The upload stopped at the failed save instead of sending every part with nothing recorded.
    const total = (sim.store.list('buildUploadFiles')[0]!.attributes.uploadOperations as unknown[]).length;
    expect(sent.length).toBeLessThan(total);
    full = false;
    const r = await run(state);
    expect(r).toMatchObject({ state: 'COMPLETE', md5, resumed: true });
    expect(states(sim)).toEqual(['COMPLETE']);
  }, 60_000);
});
