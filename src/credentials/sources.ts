import { join } from 'node:path';
import { AscendError, isAscendError } from '../core/errors.js';
import { validateIssuerId, validateKeyId, validatePrivateKey } from './key.js';
import type { KeyStore } from './store.js';
import type { ApiKey } from './types.js';
import {
  decodeB64,
  deref,
  keyValue,
  kindOfKeyValue,
  looksLikeJson,
  parseFastlaneJson,
  readKeyFile,
  type ValueContext,
} from './values.js';

/** Credential-related flags, as parsed by the CLI. */
export interface CredentialFlags {
  key?: string;
  keyId?: string;
  issuerId?: string;
  privateKey?: string;
  individual?: boolean;
  strictAuth?: boolean;
}

export interface ResolveContext extends ValueContext {
  store: KeyStore;
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
  const candidates: Candidate[] = [];
  if (flags.keyId || flags.issuerId || flags.privateKey) candidates.push(await flagsCandidate(flags, ctx));
  if (flags.key) {
    const name = flags.key;
    candidates.push({ source: `stored key "${name}"`, stored: () => ctx.store.get(name) });
  }
  candidates.push(...(await envCandidates(flags, ctx)));
  const def = ctx.noStoredDefault ? undefined : await ctx.store.defaultName();
  if (def && def !== flags.key)
    candidates.push({ source: `default stored key "${def}"`, stored: () => ctx.store.get(def) });

  const expanded = await expandStored(candidates);

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
    if (issuerId !== issC.issuerId.trim()) {
      ctx.warn?.(
        `the Issuer ID from ${issC.source} has upper-case letters; Apple's Issuer IDs are lower case, so ${issuerId} is used`,
      );
    }
  }

  let privateKeySource = pkC?.source;
  let privateKeyText: string | undefined = pkC?.privateKey ? await pkC.privateKey() : undefined;
  if (privateKeyText === undefined) {
    const found = await altoolKey(keyId, ctx);
    if (found) {
      privateKeyText = found.text;
      privateKeySource = found.source;
      pkC = { source: found.source };
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

/** fastlane's JSON key file (APP_STORE_CONNECT_API_KEY_PATH) as a candidate source. */
async function fastlaneJsonFile(path: string, origin: string, ctx: ResolveContext): Promise<Candidate> {
  const text = await readKeyFile(path, origin, ctx);
  const k = parseFastlaneJson(text, `${path} (${origin})`);
  return {
    source: `fastlane key file ${path}`,
    keyId: k.keyId,
    issuerId: k.issuerId,
    privateKey: async () => k.key,
    inHouse: k.inHouse,
    individual: k.individual,
  };
}

/**
 * The flags' candidate. A `--private-key` path is read now (bounded, a few hundred bytes), so that a
 * fastlane key JSON given there supplies the Key ID and Issuer ID too; a read error is kept and thrown
 * when the key is needed, so cheaper checks of the IDs still come first.
 */
async function flagsCandidate(flags: CredentialFlags, ctx: ResolveContext): Promise<Candidate> {
  const c: Candidate = {
    source: 'flags',
    keyId: flags.keyId && (await deref(flags.keyId, '--key-id', ctx)),
    issuerId: flags.issuerId && (await deref(flags.issuerId, '--issuer-id', ctx)),
    individual: flags.individual,
  };
  const pk = flags.privateKey;
  if (!pk) return c;
  const kind = kindOfKeyValue(pk);
  if (kind === 'literal') {
    ctx.warn?.(
      'a private key given as text on the command line can be read by every local user (`ps`); pass a path, `-` (standard input) or @env:VAR instead',
    );
  }
  if (kind !== 'path' && kind !== 'file') {
    c.privateKey = () => keyValue(pk, '--private-key', ctx);
    return c;
  }
  let text: string;
  try {
    text = await keyValue(pk, '--private-key', ctx);
  } catch (err) {
    if (!isAscendError(err)) throw err;
    c.privateKey = () => Promise.reject(err);
    return c;
  }
  if (!looksLikeJson(text)) {
    c.privateKey = async () => text;
    return c;
  }
  const k = parseFastlaneJson(text, `${pk} (--private-key)`);
  c.source = `flags and fastlane key file ${pk}`;
  c.keyId ||= k.keyId;
  c.issuerId ||= k.issuerId;
  c.privateKey = async () => k.key;
  c.inHouse = k.inHouse;
  c.individual = flags.individual || (!c.issuerId && k.individual);
  return c;
}

/** The environment's sources in the documented order: ASC_*, fastlane, fastlane JSON, codemagic, EAS. */
async function envCandidates(flags: CredentialFlags, ctx: ResolveContext): Promise<Candidate[]> {
  const env = ctx.env;
  const candidates: Candidate[] = [];
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
            ? () => readKeyFile(env.ASC_PRIVATE_KEY_PATH!, 'ASC_PRIVATE_KEY_PATH', ctx)
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
          ? () => readKeyFile(env[`${fl}KEY_FILEPATH`]!, `${fl}KEY_FILEPATH`, ctx)
          : undefined,
      inHouse: /^(1|true|yes)$/i.test(env[`${fl}IN_HOUSE`] ?? ''),
      individual: flags.individual,
    });
  }
  if (env.APP_STORE_CONNECT_API_KEY_PATH) {
    candidates.push(await fastlaneJsonFile(env.APP_STORE_CONNECT_API_KEY_PATH, 'APP_STORE_CONNECT_API_KEY_PATH', ctx));
  }
  if (env.APP_STORE_CONNECT_ISSUER_ID || env.APP_STORE_CONNECT_KEY_IDENTIFIER || env.APP_STORE_CONNECT_PRIVATE_KEY) {
    const pk = env.APP_STORE_CONNECT_PRIVATE_KEY;
    candidates.push({
      source: 'codemagic environment',
      keyId:
        env.APP_STORE_CONNECT_KEY_IDENTIFIER &&
        (await deref(env.APP_STORE_CONNECT_KEY_IDENTIFIER, 'APP_STORE_CONNECT_KEY_IDENTIFIER', ctx)),
      issuerId:
        env.APP_STORE_CONNECT_ISSUER_ID &&
        (await deref(env.APP_STORE_CONNECT_ISSUER_ID, 'APP_STORE_CONNECT_ISSUER_ID', ctx)),
      privateKey: pk ? () => keyValue(pk, 'APP_STORE_CONNECT_PRIVATE_KEY', ctx) : undefined,
      individual: flags.individual,
    });
  }
  if (env.EXPO_ASC_API_KEY_PATH || env.EXPO_ASC_KEY_ID || env.EXPO_ASC_ISSUER_ID) {
    candidates.push({
      source: 'EAS environment',
      keyId: env.EXPO_ASC_KEY_ID,
      issuerId: env.EXPO_ASC_ISSUER_ID,
      privateKey: env.EXPO_ASC_API_KEY_PATH
        ? () => readKeyFile(env.EXPO_ASC_API_KEY_PATH!, 'EXPO_ASC_API_KEY_PATH', ctx)
        : undefined,
      individual: flags.individual,
    });
  }
  return candidates;
}

/** A stored key is taken whole: expanded here so its fields join the field-by-field pick. */
async function expandStored(candidates: Candidate[]): Promise<Candidate[]> {
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

  return expanded;
}

/** altool's search for AuthKey_<KEYID>.p8; a missing file moves on, anything else (a FIFO, a huge file) is reported. */
async function altoolKey(keyId: string, ctx: ResolveContext): Promise<{ text: string; source: string } | undefined> {
  for (const dir of altoolKeyDirs(ctx)) {
    const p = join(dir, `AuthKey_${keyId}.p8`);
    try {
      return { text: await readKeyFile(p, `AuthKey_${keyId}.p8`, ctx), source: `file ${p}` };
    } catch (err) {
      if (!(isAscendError(err) && err.code === 'KEY_FILE_NOT_FOUND')) throw err;
    }
  }
  return undefined;
}
