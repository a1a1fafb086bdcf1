import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAscClient } from '../../asc/http/client.js';
import { listApps } from '../../asc/resources/apps.js';
import { listBetaGroups } from '../../asc/resources/beta-groups.js';
import { listBuilds } from '../../asc/resources/builds.js';
import { validatePrivateKey } from '../../credentials/key.js';
import { createTokenProvider } from '../../credentials/token.js';
import { nextBuildNumber } from '../../release/build-number.js';
import { table } from '../io.js';
import { protect, type Runtime } from '../runtime.js';

/**
 * `ascend demo`: a newcomer's first minutes with no Apple account. Starts the simulated App Store Connect
 * in this process, makes an App Manager key for it, and runs the real client against it; nothing is left
 * running or written outside a temporary folder.
 */
export async function run(rt: Runtime): Promise<number> {
  const { startSimulator } = await import('../../../simulator/index.js');
  const home = mkdtempSync(join(tmpdir(), 'ascend-demo-'));
  const sim = await startSimulator({ stateFile: join(home, 'state.json') });
  try {
    const created = sim.createKey({ role: 'APP_MANAGER' });
    protect(rt.out, created.privateKeyPem);
    const key = {
      keyId: created.keyId,
      issuerId: created.issuerId,
      privateKeyPem: validatePrivateKey(created.privateKeyPem).pem,
      inHouse: false,
      sources: { keyId: 'demo', issuerId: 'demo', privateKey: 'demo' },
    };
    const tokens = createTokenProvider(key);
    const client = createAscClient({ baseUrl: sim.url, tokens, logger: rt.out.logger });
    const apps = await listApps(client);
    const first = apps[0]!;
    const { builds } = await listBuilds(client, { appId: first.id });
    const groups = await listBetaGroups(client, { appId: first.id });
    const next = await nextBuildNumber(client, first.id, '1.0.0');
    const summary = {
      simulator: sim.url,
      keyId: key.keyId,
      apps: apps.map((a) => ({ id: a.id, bundleId: a.attributes?.bundleId, name: a.attributes?.name })),
      builds: builds.map((b) => ({
        id: b.id,
        version: b.attributes?.version,
        processingState: b.attributes?.processingState,
      })),
      betaGroups: groups.map((g) => ({
        id: g.id,
        name: g.attributes?.name,
        isInternalGroup: g.attributes?.isInternalGroup,
      })),
      nextBuildNumber: next.next,
      requests: client.sent,
      tokensMinted: tokens.minted,
    };
    if (rt.config.json) rt.out.json(summary);
    else {
      rt.out.print(`Simulated App Store Connect at ${sim.url}, App Manager key ${key.keyId}\n`);
      rt.out.print(
        table(
          ['APP ID', 'BUNDLE ID', 'NAME'],
          summary.apps.map((a) => [a.id, a.bundleId, a.name]),
        ),
      );
      rt.out.print(`\nBuilds of ${first.attributes?.bundleId}:`);
      rt.out.print(
        table(
          ['ID', 'BUILD', 'STATE'],
          summary.builds.map((b) => [b.id, b.version, b.processingState]),
        ),
      );
      rt.out.print(`\nTestFlight groups:`);
      rt.out.print(
        table(
          ['ID', 'NAME', 'INTERNAL'],
          summary.betaGroups.map((g) => [g.id, g.name, g.isInternalGroup]),
        ),
      );
      rt.out.print(
        `\nNext free build number for 1.0.0: ${next.next}  (${client.sent} requests, ${tokens.minted} token minted)`,
      );
      rt.out.print(
        [
          '',
          'With your own key (App Store Connect → Users and Access → Integrations → "+", App Manager):',
          '  ascend keys add --name my-team --key-id <KEY ID> --issuer-id <ISSUER ID> --private-key AuthKey_<KEY ID>.p8',
          '  ascend keys check',
          '  ascend apps list',
          'Or try the simulator yourself: ascend simulator start --port 0 --write-key k.json',
        ].join('\n'),
      );
    }
    return 0;
  } finally {
    await sim.close();
    rmSync(home, { recursive: true, force: true });
  }
}
