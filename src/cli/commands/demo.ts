import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAscClient } from '../../asc/http/client.js';
import { listApps } from '../../asc/resources/apps.js';
import { realSleep, systemClock } from '../../core/clock.js';
import { MemoryStateStore } from '../../core/state.js';
import { apiKeyOf } from '../../credentials/key.js';
import { createTokenProvider } from '../../credentials/token.js';
import { nextBuildNumber } from '../../release/build-number.js';
import { deploy } from '../../release/deploy.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../../sample/builder.js';
import { httpTransport } from '../../upload/engine.js';
import { protect, type Runtime } from '../runtime.js';
import { progressFor } from '../session.js';
import { demoOptions, demoOutro } from './release-flags.js';
import { renderEvents, summary } from './release-render.js';

/**
 * `ascend demo`: no Apple account needed. The simulated App Store Connect runs in this process; an App
 * Manager key and a sample IPA are made for a seeded app, and the deploy pipeline takes it to TestFlight and
 * App Review exactly as `ascend deploy` would. Nothing is left running; the temporary folder is removed.
 */
export async function run(rt: Runtime): Promise<number> {
  const { startSimulator } = await import('../../../simulator/index.js');
  const home = mkdtempSync(join(tmpdir(), 'ascend-demo-'));
  const sim = await startSimulator({ processingSeconds: 1, reviewSeconds: 30, partSizeBytes: 1024 * 1024 });
  const transport = await httpTransport(4);
  try {
    const created = sim.createKey({ role: 'APP_MANAGER' });
    protect(rt.out, created.privateKeyPem);
    const tokens = createTokenProvider(apiKeyOf(created, 'demo'));
    const client = createAscClient({ baseUrl: sim.url, tokens, logger: rt.out.logger });
    const progress = progressFor(rt);
    progress.note('demo', `simulated App Store Connect at ${sim.url}, App Manager key ${created.keyId}`);
    const app = (await listApps(client))[0]!;
    const { next } = await nextBuildNumber(client, app.id, '1.0.0');
    const file = join(home, 'SandboxOne.ipa');
    const bundleId = app.attributes?.bundleId ?? undefined;
    await buildIpa(file, { bundleId, version: '1.0.0', build: next, payloadBytes: 3 * 1024 * 1024 });
    progress.note('demo', `made ${file} (${bundleId} 1.0.0 build ${next}); deploying it to TestFlight and App Review`);
    // The sample IPA's profile is signed by the sample root, not Apple: trusted for this deploy only.
    const options = { ...demoOptions(file, systemClock.now()), extraTrustedRoots: [SAMPLE_ROOT_SHA256] };
    const report = await deploy(options, {
      client,
      state: new MemoryStateStore(),
      clock: systemClock,
      sleep: realSleep,
      random: Math.random,
      transport,
      onEvent: renderEvents(progress),
    });
    if (rt.config.json)
      rt.out.json({ simulator: sim.url, requests: client.sent, tokensMinted: tokens.minted, deploy: report });
    else rt.out.print(`${summary(report, rt.config.quiet)}\n${demoOutro(client.sent, tokens.minted)}`);
    return 0;
  } finally {
    await transport.close();
    await sim.close();
    rmSync(home, { recursive: true, force: true });
  }
}
