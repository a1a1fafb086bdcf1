import type { Store } from '../open.js';

/** A query whose execution fails, as one sent over a lost connection does. */
function failOnExecute<T extends object>(query: T): T {
  return new Proxy(query, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof key === 'string' && key.startsWith('execute'))
        return () => Promise.reject(new Error('connection lost'));
      return typeof value === 'function' ? (...a: unknown[]) => failOnExecute(value.apply(target, a)) : value;
    },
  });
}

/**
 * The store with every UPDATE failing while `failing()` holds (a database cut off mid-job): lease and slot
 * renewals error instead of answering. Other statements, and transactions, go through.
 */
export function withFailingUpdates(store: Store, failing: () => boolean): Store {
  const wrap = <T extends object>(db: T): T =>
    new Proxy(db, {
      get(target, key) {
        if (key === 'updateTable' && failing())
          return (...a: unknown[]) =>
            failOnExecute((target as { updateTable: (...a: unknown[]) => object }).updateTable(...a));
        const value = Reflect.get(target, key, target);
        if (key === 'withTables')
          return (...a: unknown[]) => wrap((value as (...a: unknown[]) => object).apply(target, a));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return { db: wrap(store.db), dialect: store.dialect, schema: store.schema, close: () => store.close() };
}
