import { join } from 'node:path';
import type { Simulator } from '../../simulator/index.js';
import { type AscClient, createAscClient } from '../../src/asc/http/client.js';
import type { RateLimitTracker } from '../../src/asc/http/rate-limit.js';
import { type Clock, realSleep, type Sleep, systemClock } from '../../src/core/clock.js';
import { MemoryStateStore, type StateStore } from '../../src/core/state.js';
import { apiKeyOf } from '../../src/credentials/key.js';
import { createTokenProvider } from '../../src/credentials/token.js';
import type { TokenProvider } from '../../src/credentials/types.js';
import { deploy } from '../../src/release/deploy.js';
import type { DeployOptions, DeployReport } from '../../src/release/deploy-types.js';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../../src/sample/builder.js';
import { httpTransport } from '../../src/upload/engine.js';
import { tempDir } from './temp.js';

/** Waits a tenth of what is asked: retries and polls keep their shape, tests stay quick. */
export const quickSleep: Sleep = (ms, signal) => realSleep(ms / 10, signal);

/** Where a test's time comes from: real time with quick sleeps by default, or a virtual clock. */
export interface TestTime {
  clock: Clock;
  sleep: Sleep;
}
const quickTime: TestTime = { clock: systemClock, sleep: quickSleep };

export function clientFor(
  sim: Simulator,
  key: { keyId: string; issuerId: string | undefined; privateKeyPem: string },
  extra: { rateLimit?: RateLimitTracker; tokens?: TokenProvider; time?: TestTime } = {},
): { client: AscClient; tokens: TokenProvider } {
  const time = extra.time ?? quickTime;
  const tokens = extra.tokens ?? createTokenProvider(apiKeyOf(key, 'test'), { clock: time.clock });
  return {
    client: createAscClient({
      baseUrl: sim.url,
      tokens,
      clock: time.clock,
      sleep: time.sleep,
      rateLimit: extra.rateLimit,
    }),
    tokens,
  };
}

export async function sampleIpa(
  version: string,
  build: string,
  bytes = 300 * 1024,
  bundleId?: string,
): Promise<string> {
  const p = join(tempDir('ascend-rel-'), `app-${version}-${build}.ipa`);
  await buildIpa(p, { version, build, payloadBytes: bytes, bundleId });
  return p;
}

export async function runDeploy(
  client: AscClient,
  file: string,
  over: Partial<DeployOptions> = {},
  state: StateStore = new MemoryStateStore(),
  time: TestTime = quickTime,
): Promise<DeployReport> {
  const transport = await httpTransport(4);
  try {
    return await deploy(
      {
        file,
        groups: ['Internal Testers', 'External Testers'],
        whatsNew: 'Regression pass',
        locale: 'en-US',
        betaReview: false,
        appStore: false,
        submitReview: false,
        release: { type: 'AFTER_APPROVAL' },
        phased: false,
        dryRun: false,
        concurrency: 4,
        deadline: time.clock.now() + 120_000,
        extraTrustedRoots: [SAMPLE_ROOT_SHA256],
        ...over,
      },
      { client, state, clock: time.clock, sleep: time.sleep, random: Math.random, transport },
    );
  } finally {
    await transport.close();
  }
}
