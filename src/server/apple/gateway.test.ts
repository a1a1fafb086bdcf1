import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../simulator/index.js';
import { realSleep } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import { apiKeyOf } from '../../credentials/key.js';
import { AscClients } from './clients.js';
import { ascGateway } from './gateway.js';

describe('AppleGateway over src/asc, against the simulator', () => {
  let sim: Simulator;
  let clients: AscClients;

  beforeAll(async () => {
    sim = await startSimulator({ host: '127.0.0.1', port: 0 });
    clients = new AscClients({ baseUrl: sim.url, sleep: (ms, s) => realSleep(ms / 50, s) });
  });
  afterAll(() => sim.close());

  const keyOf = (role: string) => apiKeyOf(sim.createKey({ role }), 'request');

  it('infers Admin, App Manager and Developer roles from the read-only probes', async () => {
    const gw = ascGateway(clients);
    expect(await gw.checkKey(keyOf('ADMIN'))).toEqual({ role: 'ADMIN' });
    expect(await gw.checkKey(keyOf('APP_MANAGER'))).toEqual({ role: 'APP_MANAGER' });
    expect(await gw.checkKey(keyOf('DEVELOPER'))).toEqual({ role: 'DEVELOPER' });
  });

  it('a revoked key is refused by Apple with an auth error, not stored as valid', async () => {
    const created = sim.createKey({ role: 'APP_MANAGER' });
    sim.revokeKey(created.keyId);
    const err = await ascGateway(clients)
      .checkKey(apiKeyOf(created, 'request'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AscendError);
    expect((err as AscendError).exitCode).toBe(3);
  });

  it('build numbers in use are those of the seeded train; one client per key is shared', async () => {
    const key = keyOf('APP_MANAGER');
    const gw = ascGateway(clients);
    const used = await gw.buildNumbersInUse(key, { appId: '1000000001', version: '1.0.0', platform: 'IOS' });
    expect([...used].sort()).toEqual(['1', '2']);
    expect(clients.for(key)).toBe(clients.for({ ...key }));
    expect(clients.for(key)).not.toBe(clients.for(keyOf('APP_MANAGER')));
  });
});
