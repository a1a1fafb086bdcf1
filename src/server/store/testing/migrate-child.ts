// Opens and migrates the SQLite file named on the command line; used to start two processes at once.
import { migrate } from '../migrate.js';
import { openStore } from '../open.js';

const path = process.argv[2]!;
const store = await openStore({ dialect: 'sqlite', path });
try {
  const ran = await migrate(store);
  process.stdout.write(`${JSON.stringify(ran)}\n`);
} finally {
  await store.close();
}
