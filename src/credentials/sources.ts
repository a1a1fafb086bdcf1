import { readFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { AscendError } from '../core/errors.js';
import { validateIssuerId, validateKeyId, validatePrivateKey } from './key.js';
import type { KeyStore } from './store.js';
import type { ApiKey } from './types.js';

/** Credential-related flags, as parsed by the CLI. */
export interface CredentialFlags {
  key?: string;
  keyId?: string;
  issuerId?: string;
  privateKey?: string;
  individual?: boolean;
  strictAuth?: boolean;
}

export interface ResolveContext {
  env: Readonly<Record<string, string | undefined>>;
  store: KeyStore;
  home: string;
  cwd: string;
  readFile?: (path: string) => Promise<Buffer>;
  readStdin?: () => Promise<string>;
  /** Skip the default stored key (used by `keys add`, which must take exactly what it was given). */
  noStoredDefault?: boolean;
}

/** One place credentials may come from; fields are loaded lazily so unused sources do no I/O. */
interface Candidate {
  source: string;
  keyId?: string;
  issuerId?: string;
  privateKey?: () => Promise<string>;
  inHouse?: boolean;
  individual?: boolean;
  /** A stored key is complete on its own. */
  stored?: () => Promise<ApiKey>;
}

/** Folders altool searches for AuthKey_<KEYID>.p8, in its order. */
export function altoolKeyDirs(ctx: Pick<ResolveContext, 'env' | 'home' | 'cwd'>): string[] {
  const dirs = [
    join(ctx.cwd, 'private_keys'),
    join(ctx.home, 'private_keys'),
    join(ctx.home, '.private_keys'),
    join(ctx.home, '.appstoreconnect', 'private_keys'),
  ];
  if (ctx.env.API_PRIVATE_KEYS_DIR) dirs.push(ctx.env.API_PRIVATE_KEYS_DIR);
  return dirs;
}

/**
 * Resolves the API key, field by field, from the sources in the documented order (DESIGN §3.2):
 * flags → --key NAME → ASC_* → fastlane → codemagic → EAS → the default stored key; then, with only a
 * Key ID, AuthKey_<KEYID>.p8 in altool's folders.
 */
export async function resolveCredentials(flags: CredentialFlags, ctx: ResolveContext): Promise<ApiKey> {
  const rf = ctx.readFile ?? ((p: string) => readFile(p));
  const env = ctx.env;
  const deref = makeDeref(ctx, rf);
  const candidates: Candidate[] = [];

  if (flags.keyId || flags.issuerId || flags.privateKey) {
    const pk = flags.privateKey;
    candidates.push({
      source: 'flags',
      keyId: flags.keyId && (await deref(flags.keyId, '--key-id')),
      issuerId: flags.issuerId && (await deref(flags.issuerId, '--issuer-id')),
      privateKey: pk ? () => keyValue(pk, '--private-key', ctx, rf) : undefined,
      individual: flags.individual,
    });
  }
  if (flags.key) {
    const name = flags.key;
    candidates.push({ source: `stored key "${name}"`, stored: () => ctx.store.get(name) });
  }
  if (
    env.ASC_KEY_ID ||
    env.ASC_ISSUER_ID ||
    env.ASC_PRIVATE_KEY ||
    env.ASC_PRIVATE_KEY_PATH ||
    env.ASC_PRIVATE_KEY_B64
  ) {
    candidates.push({
      source: 'ASC_* environment',
      keyId: env.ASC_KEY_ID,
      issuerId: env.ASC_ISSUER_ID,
      privateKey: env.ASC_PRIVATE_KEY
        ? async () => env.ASC_PRIVATE_KEY!
        : env.ASC_PRIVATE_KEY_B64
          ? async () => decodeB64(env.ASC_PRIVATE_KEY_B64!, 'ASC_PRIVATE_KEY_B64')
          : env.ASC_PRIVATE_KEY_PATH
            ? () => readKeyFile(env.ASC_PRIVATE_KEY_PATH!, 'ASC_PRIVATE_KEY_PATH', ctx, rf)
            : undefined,
      individual: flags.individual,
    });
  }
  const fl = 'APP_STORE_CONNECT_API_KEY_';
  if (env[`${fl}KEY_ID`] || env[`${fl}ISSUER_ID`] || env[`${fl}KEY`] || env[`${fl}KEY_FILEPATH`]) {
    const b64 = /^(1|true|yes)$/i.test(env[`${fl}IS_KEY_CONTENT_BASE64`] ?? '');
    candidates.push({
      source: 'fastlane environment',
      keyId: env[`${fl}KEY_ID`],
      issuerId: env[`${fl}ISSUER_ID`],
      privateKey: env[`${fl}KEY`]
        ? async () => (b64 ? decodeB64(env[`${fl}KEY`]!, `${fl}KEY`) : env[`${fl}KEY`]!)
        : env[`${fl}KEY_FILEPATH`]
          ? () => readKeyFile(env[`${fl}KEY_FILEPATH`]!, `${fl}KEY_FILEPATH`, ctx, rf)
          : undefined,
      inHouse: /^(1|true|yes)$/i.test(env[`${fl}IN_HOUSE`] ?? ''),
      individual: flags.individual,
    });
  }
  if (env.APP_STORE_CONNECT_API_KEY_PATH) {
    candidates.push(await fastlaneJson(env.APP_STORE_CONNECT_API_KEY_PATH, ctx, rf));
  }
  if (env.APP_STORE_CONNECT_ISSUER_ID || env.APP_STORE_CONNECT_KEY_IDENTIFIER || env.APP_STORE_CONNECT_PRIVATE_KEY) {
    const pk = env.APP_STORE_CONNECT_PRIVATE_KEY;
    candidates.push({
      source: 'codemagic environment',
      keyId:
        env.APP_STORE_CONNECT_KEY_IDENTIFIER &&
        (await deref(env.APP_STORE_CONNECT_KEY_IDENTIFIER, 'APP_STORE_CONNECT_KEY_IDENTIFIER')),
      issuerId:
        env.APP_STORE_CONNECT_ISSUER_ID &&
        (await deref(env.APP_STORE_CONNECT_ISSUER_ID, 'APP_STORE_CONNECT_ISSUER_ID')),
      privateKey: pk ? () => keyValue(pk, 'APP_STORE_CONNECT_PRIVATE_KEY', ctx, rf) : undefined,
      individual: flags.individual,
    });
  }
  if (env.EXPO_ASC_API_KEY_PATH || env.EXPO_ASC_KEY_ID || env.EXPO_ASC_ISSUER_ID) {
    candidates.push({
      source: 'EAS environment',
      keyId: env.EXPO_ASC_KEY_ID,
      issuerId: env.EXPO_ASC_ISSUER_ID,
      privateKey: env.EXPO_ASC_API_KEY_PATH
        ? () => readKeyFile(env.EXPO_ASC_API_KEY_PATH!, 'EXPO_ASC_API_KEY_PATH', ctx, rf)
        : undefined,
      individual: flags.individual,
    });
  }
  const def = ctx.noStoredDefault ? undefined : await ctx.store.defaultName();
  if (def && def !== flags.key)
    candidates.push({ source: `default stored key "${def}"`, stored: () => ctx.store.get(def) });

  // A stored key is taken whole: expand it now so its fields join the field-by-field pick below.
  const expanded: Candidate[] = [];
  for (const c of candidates) {
    if (c.stored) {
      // The default stored key is only consulted if something is still missing.
      if (c.source.startsWith('default') && expanded.some((e) => e.keyId) && expanded.some((e) => e.privateKey))
        continue;
      const k = await c.stored();
      expanded.push({
        source: c.source,
        keyId: k.keyId,
        issuerId: k.issuerId,
        privateKey: async () => k.privateKeyPem,
        inHouse: k.inHouse,
        individual: k.issuerId === undefined,
      });
    } else expanded.push(c);
  }

  const pick = <K extends 'keyId' | 'issuerId' | 'privateKey'>(field: K) =>
    expanded.find((c) => c[field] !== undefined && c[field] !== '');
  const idC = pick('keyId');
  const issC = pick('issuerId');
  let pkC = pick('privateKey');

  if (!idC?.keyId) {
    throw new AscendError('CREDENTIALS_MISSING', 'no App Store Connect API key was given (no Key ID found)');
  }
  const keyId = validateKeyId(idC.keyId, `the Key ID from ${idC.source}`);

  // Cheap checks first: the Issuer ID before the key file is read and parsed.
  const individual = Boolean(flags.individual || (!issC && (idC.individual || pkC?.individual)));
  let issuerId: string | undefined;
  if (!individual) {
    if (!issC?.issuerId) {
      throw new AscendError('CREDENTIALS_MISSING', `no Issuer ID was given for Key ID ${keyId}`, {
        remedy:
          'Pass --issuer-id (shown above the key list in App Store Connect), or --individual for an individual key.',
      });
    }
    issuerId = validateIssuerId(issC.issuerId, `the Issuer ID from ${issC.source}`);
  }

  let privateKeySource = pkC?.source;
  let privateKeyText: string | undefined = pkC?.privateKey ? await pkC.privateKey() : undefined;
  if (privateKeyText === undefined) {
    for (const dir of altoolKeyDirs(ctx)) {
      const p = join(dir, `AuthKey_${keyId}.p8`);
      try {
        privateKeyText = (await rf(p)).toString('utf8');
        privateKeySource = `file ${p}`;
        pkC = { source: privateKeySource };
        break;
      } catch {
        // not in this folder; altool looks in the next one
      }
    }
  }
  if (privateKeyText === undefined) {
    throw new AscendError('CREDENTIALS_MISSING', `no private key was found for Key ID ${keyId}`, {
      remedy: `Pass --private-key PATH, set ASC_PRIVATE_KEY_PATH, or put AuthKey_${keyId}.p8 in ~/.appstoreconnect/private_keys.`,
    });
  }
  const { pem } = validatePrivateKey(privateKeyText, `the private key from ${privateKeySource}`);

  const sources = {
    keyId: idC.source,
    issuerId: individual ? 'individual key' : issC!.source,
    privateKey: privateKeySource!,
  };
  if (flags.strictAuth) {
    const distinct = new Set([sources.keyId, individual ? sources.keyId : sources.issuerId, sources.privateKey]);
    if (distinct.size > 1) {
      throw new AscendError('CREDENTIALS_MIXED', `credentials come from several sources: ${[...distinct].join(', ')}`);
    }
  }
  const key: ApiKey = {
    keyId,
    issuerId,
    privateKeyPem: pem,
    inHouse: Boolean(idC.inHouse || pkC?.inHouse || issC?.inHouse),
    sources,
  };
  if (idC.source.includes('stored key')) key.name = idC.source.replace(/^.*stored key "(.*)"$/, '$1');
  return key;
}

function makeDeref(ctx: ResolveContext, rf: (p: string) => Promise<Buffer>) {
  return async (value: string, origin: string): Promise<string> => {
    if (value.startsWith('@env:')) {
      const name = value.slice(5);
      const v = ctx.env[name];
      if (v === undefined)
        throw new AscendError('CREDENTIALS_MISSING', `${origin} names @env:${name}, which is not set`);
      return v.trim();
    }
    if (value.startsWith('@file:')) return (await readKeyFile(value.slice(6), origin, ctx, rf)).trim();
    return value.trim();
  };
}

/** A private-key value: `-` (stdin), `@env:VAR`, `@file:PATH`, PEM or base64 text, or a path. */
async function keyValue(
  value: string,
  origin: string,
  ctx: ResolveContext,
  rf: (p: string) => Promise<Buffer>,
): Promise<string> {
  if (value === '-') {
    if (!ctx.readStdin) throw new AscendError('USAGE', `${origin} is "-" but no standard input is available`);
    return ctx.readStdin();
  }
  if (value.startsWith('@env:') || value.startsWith('@file:')) return makeDeref(ctx, rf)(value, origin);
  if (value.includes('-----BEGIN') || value.includes('\\n')) return value;
  if (/^[A-Za-z0-9+/=\s]{80,}$/.test(value) && !value.includes('/')) return value;
  return readKeyFile(value, origin, ctx, rf);
}

async function readKeyFile(
  path: string,
  origin: string,
  ctx: ResolveContext,
  rf: (p: string) => Promise<Buffer>,
): Promise<string> {
  const full = resolvePath(ctx.cwd, path.replace(/^~(?=\/|$)/, ctx.home));
  try {
    return (await rf(full)).toString('utf8');
  } catch {
    throw new AscendError('KEY_FILE_NOT_FOUND', `${origin} names ${full}, which cannot be read`);
  }
}

function decodeB64(value: string, origin: string): string {
  const text = Buffer.from(value.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (!text.includes('-----BEGIN'))
    throw new AscendError('KEY_NOT_PEM', `${origin} does not decode to a PEM private key`);
  return text;
}

async function fastlaneJson(path: string, ctx: ResolveContext, rf: (p: string) => Promise<Buffer>): Promise<Candidate> {
  const text = await readKeyFile(path, 'APP_STORE_CONNECT_API_KEY_PATH', ctx, rf);
  let json: {
    key_id?: unknown;
    issuer_id?: unknown;
    key?: unknown;
    in_house?: unknown;
    is_key_content_base64?: unknown;
  };
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new AscendError('KEY_JSON_INVALID', `${path} (APP_STORE_CONNECT_API_KEY_PATH) is not valid JSON`, { cause });
  }
  if (typeof json.key_id !== 'string' || typeof json.key !== 'string') {
    throw new AscendError('KEY_JSON_INVALID', `${path} (APP_STORE_CONNECT_API_KEY_PATH) lacks "key_id" or "key"`);
  }
  const key = json.key;
  const b64 = json.is_key_content_base64 === true;
  return {
    source: `fastlane key file ${path}`,
    keyId: json.key_id,
    issuerId: typeof json.issuer_id === 'string' ? json.issuer_id : undefined,
    privateKey: async () => (b64 ? decodeB64(key, `"key" in ${path}`) : key),
    inHouse: json.in_house === true,
    // fastlane's JSON without issuer_id describes an individual key.
    individual: typeof json.issuer_id !== 'string',
  };
}
