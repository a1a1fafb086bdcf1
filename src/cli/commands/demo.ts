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
import { createProgress } from '../progress.js';
import { protect, type Runtime } from '../runtime.js';
import { summary } from './deploy.js';

/**
 * `ascend demo`: a newcomer's first minutes, with no Apple account. Starts the simulated App Store Connect
 * in this process, makes an App Manager key and a sample IPA for a seeded app, and runs the real deploy
 * pipeline to TestFlight and App Review with the same progress and summary a real deploy shows. Nothing
 * is left running; the temporary folder is removed.
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
    const progress = createProgress({
      io: rt.io,
      tty: rt.config.stderrIsTTY,
      json: rt.config.json,
      quiet: rt.config.quiet,
      now: () => systemClock.now(),
    });
    progress.note('demo', `simulated App Store Connect at ${sim.url}, App Manager key ${created.keyId}`);
    const app = (await listApps(client))[0]!;
    const { next } = await nextBuildNumber(client, app.id, '1.0.0');
    const file = join(home, 'SandboxOne.ipa');
    await buildIpa(file, {
      bundleId: app.attributes?.bundleId ?? undefined,
      version: '1.0.0',
      build: next,
      payloadBytes: 3 * 1024 * 1024,
    });
    progress.note('demo', `made ${file} (${app.attributes?.bundleId} 1.0.0 build ${next}); deploying it`);
    const report = await deploy(
      {
        file,
        // The sample IPA's profile is signed by the sample root, not Apple: trusted for this deploy only.
        extraTrustedRoots: [SAMPLE_ROOT_SHA256],
        groups: ['Internal Testers', 'External Testers'],
        whatsNew: 'Try the new onboarding flow.',
        locale: 'en-US',
        betaReview: false,
        appStore: true,
        submitReview: true,
        release: { type: 'AFTER_APPROVAL' },
        phased: true,
        dryRun: false,
        concurrency: 4,
        deadline: systemClock.now() + 5 * 60_000,
      },
      {
        client,
        state: new MemoryStateStore(),
        clock: systemClock,
        sleep: realSleep,
        random: Math.random,
        transport,
        onEvent: (e) => {
          if (e.type === 'progress') progress.progress(e.sent, e.total);
          else if (e.type === 'step') progress.note(`${e.step} ${e.status}`, e.detail);
          else progress.note(e.text);
        },
      },
    );
    if (rt.config.json)
      rt.out.json({ simulator: sim.url, requests: client.sent, tokensMinted: tokens.minted, deploy: report });
    else {
      rt.out.print(summary(report));
      rt.out.print(
        [
          '',
          `That was the real pipeline against a simulator (${client.sent} API requests, ${tokens.minted} token).`,
          'With your own key (App Store Connect → Users and Access → Integrations → "+", App Manager):',
          '  ascend keys add --name my-team --key-id <KEY ID> --issuer-id <ISSUER ID> --private-key AuthKey_<KEY ID>.p8',
          '  ascend keys check',
          '  ascend deploy MyApp.ipa --group "Internal Testers" --whats-new "What to test" --dry-run',
          'Or keep a simulator running: ascend simulator start --port 0 --write-key k.json',
        ].join('\n'),
      );
    }
    return 0;
  } finally {
    await transport.close();
    await sim.close();
    rmSync(home, { recursive: true, force: true });
  }
}
