import type { AscClient } from '../asc/http/client.js';
import type { Config } from '../config/index.js';
import { KeyStore } from '../credentials/store.js';
import type { ApiKey } from '../credentials/types.js';
import type { Io, Output } from './io.js';

/** What every command gets: the frozen config, output, and lazily made key and client. */
export interface Runtime {
  readonly config: Config;
  readonly io: Io;
  readonly out: Output;
  readonly store: KeyStore;
  /** Aborted with an INTERRUPTED error on Ctrl-C or SIGTERM; waits and transfers pass it on. */
  readonly signal: AbortSignal;
  key(): Promise<ApiKey>;
  client(): Promise<AscClient>;
}

export function createRuntime(
  config: Config,
  io: Io,
  out: Output,
  signal: AbortSignal = new AbortController().signal,
): Runtime {
  const store = new KeyStore(config.home);
  let key: Promise<ApiKey> | undefined;
  let client: Promise<AscClient> | undefined;
  const rt: Runtime = {
    config,
    io,
    out,
    store,
    signal,
    key() {
      // Loaded on first use: commands that need no key (help, ipa inspect) do not pay for loading jose.
      key ??= import('../credentials/sources.js')
        .then(({ resolveCredentials }) =>
          resolveCredentials(config.credentials, {
            env: config.env,
            store,
            home: config.userHome,
            cwd: config.cwd,
            readStdin: io.readStdin,
            warn: (m) => out.warn(m),
          }),
        )
        .then((k) => {
          protect(out, k.privateKeyPem);
          out.logger.debug(`using Key ID ${k.keyId} (key from ${k.sources.privateKey})`);
          return k;
        });
      return key;
    },
    client() {
      client ??= rt.key().then(async (k) => {
        const [{ createAscClient }, { createTokenProvider }] = await Promise.all([
          import('../asc/http/client.js'),
          import('../credentials/token.js'),
        ]);
        return createAscClient({ baseUrl: config.apiUrl, tokens: createTokenProvider(k), logger: out.logger });
      });
      return client;
    },
  };
  return rt;
}

/** Registers every line of a PEM's body with the redactor, so no fragment of it can be printed. */
export function protect(out: Output, pem: string): void {
  for (const line of pem.split('\n')) if (!line.startsWith('-----') && line.length >= 16) out.redactor.add(line);
}
