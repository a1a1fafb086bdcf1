import { homedir } from 'node:os';
import { join } from 'node:path';
import { AscendError } from '../core/errors.js';

/** The credential flags (DESIGN §3.2); credentials/sources.ts takes this shape. */
export interface CredentialOptions {
  key?: string;
  keyId?: string;
  issuerId?: string;
  privateKey?: string;
  individual?: boolean;
  strictAuth?: boolean;
}

/** Global options as the CLI parses them. */
export interface GlobalOptions {
  key?: string;
  keyId?: string;
  issuerId?: string;
  privateKey?: string;
  individual?: boolean;
  strictAuth?: boolean;
  apiUrl?: string;
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

/** Everything ascend reads from its surroundings, read once at the edge and frozen. */
export interface Config {
  readonly apiUrl: string;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly quiet: boolean;
  readonly home: string;
  readonly userHome: string;
  readonly cwd: string;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly credentials: Readonly<CredentialOptions>;
  /** The environment, for credential sources only (DESIGN §3.2 names the variables). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * ASCEND_EXTRA_TRUSTED_ROOTS: SHA-256 fingerprints (hex, colons allowed, separated by commas or spaces)
   * of certificates trusted to sign provisioning profiles besides Apple's roots — for sample IPAs only.
   */
  readonly extraTrustedRoots: readonly string[];
}

export const DEFAULT_API_URL = 'https://api.appstoreconnect.apple.com';

export interface Surroundings {
  env: Record<string, string | undefined>;
  cwd: string;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  userHome?: string;
}

function apiUrlOf(value: string, origin: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AscendError('USAGE', `${origin} ${value} is not a URL`, {
      remedy: `Use ${DEFAULT_API_URL} or a simulator's URL such as http://127.0.0.1:8080.`,
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AscendError('USAGE', `${origin} ${value} is not an http(s) URL`, {
      remedy: `Use ${DEFAULT_API_URL} or a simulator's URL.`,
    });
  }
  return value.replace(/\/+$/, '');
}

function extraTrustedRootsOf(value: string | undefined): string[] {
  const list = (value ?? '').split(/[\s,]+/).filter(Boolean);
  return list.map((f) => {
    const hex = f.replaceAll(':', '').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hex))
      throw new AscendError(
        'USAGE',
        `ASCEND_EXTRA_TRUSTED_ROOTS holds "${f.slice(0, 80)}", not a SHA-256 fingerprint`,
        {
          remedy: 'Give 64 hex digits per root (the SHA-256 of its certificate), separated by commas, or unset it.',
        },
      );
    return hex;
  });
}

/** Reads and checks everything once; throws a usage error (exit 2) for a malformed value. */
export function loadConfig(opts: GlobalOptions, s: Surroundings): Config {
  const userHome = s.userHome ?? s.env.HOME ?? homedir();
  const config: Config = {
    apiUrl:
      opts.apiUrl !== undefined
        ? apiUrlOf(opts.apiUrl, '--api-url')
        : apiUrlOf(s.env.ASC_API_URL ?? DEFAULT_API_URL, 'ASC_API_URL'),
    // A pipe gets JSON: one document a script can parse.
    json: Boolean(opts.json) || !s.stdoutIsTTY,
    verbose: Boolean(opts.verbose),
    quiet: Boolean(opts.quiet),
    home: s.env.ASCEND_HOME ?? join(userHome, '.config', 'ascend'),
    userHome,
    cwd: s.cwd,
    stdoutIsTTY: s.stdoutIsTTY,
    stderrIsTTY: s.stderrIsTTY,
    credentials: Object.freeze({
      key: opts.key,
      keyId: opts.keyId,
      issuerId: opts.issuerId,
      privateKey: opts.privateKey,
      individual: opts.individual,
      strictAuth: Boolean(opts.strictAuth) || /^(1|true)$/i.test(s.env.ASC_STRICT_AUTH ?? ''),
    }),
    env: Object.freeze({ ...s.env }),
    extraTrustedRoots: Object.freeze(extraTrustedRootsOf(s.env.ASCEND_EXTRA_TRUSTED_ROOTS)),
  };
  return Object.freeze(config);
}
