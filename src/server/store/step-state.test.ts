import { expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { defineStateStoreContract } from '../../core/state.contract.js';
import { DbStateStore } from './step-state.js';
import { describeStores } from './testing/dialects.js';

describeStores('step_state', (ctx) => {
  let n = 0;
  defineStateStoreContract(`database (${ctx.dialect})`, {
    create: () => new DbStateStore(ctx.store(), `dep_contract${n++}`, new FakeClock()),
    damage: async (s, key) => {
      const scope = (s as DbStateStore).scope;
      await ctx
        .store()
        .db.updateTable('step_state')
        .set({ value: '{"half": ' })
        .where('scope', '=', scope)
        .where('key', '=', key)
        .execute();
    },
  });

  it('scopes keep the same key apart, and clear() forgets one scope only', async () => {
    const clock = new FakeClock();
    const a = new DbStateStore(ctx.store(), 'dep_a', clock);
    const b = new DbStateStore(ctx.store(), 'dep_b', clock);
    await a.put('upload', { part: 1 });
    await b.put('upload', { part: 2 });
    expect(await a.get('upload')).toEqual({ part: 1 });
    await a.clear();
    expect(await a.get('upload')).toBeUndefined();
    expect(await b.get('upload')).toEqual({ part: 2 });
  });
});
