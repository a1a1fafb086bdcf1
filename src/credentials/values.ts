import { resolve as resolvePath } from 'node:path';
import { AscendError } from '../core/errors.js';
import { checkKeyTextSize, MAX_KEY_BYTES, readableByOthers, readKeyFileBounded } from './read.js';

/** What reading a credential value needs from its surroundings. */
export interface ValueContext {
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  cwd: string;
  /** Standard input as text, at most `maxBytes` + 1 bytes of it. */
  readStdin?: (maxBytes?: number) => Promise<string>;
  /** One-line warnings (a key visible in `ps`, a key file others can read); silent when absent. */
  warn?: (message: string) => void;
}

/** How a `--private-key` value is meant: stdin, a reference, the key text itself, or a path. */
export type KeyValueKind = 'stdin' | 'env' | 'file' | 'literal' | 'path';

export function kindOfKeyValue(value: string): KeyValueKind {
  if (value === '-') return 'stdin';
  if (value.startsWith('@env:')) return 'env';
  if (value.startsWith('@file:')) return 'file';
  if (value.includes('-----BEGIN') || value.includes('\\n')) return 'literal';
  if (/^[A-Za-z0-9+/=\s]{80,}$/.test(value) && !value.includes('/')) return 'literal';
  return 'path';
}

/** Reads a key or key-JSON file by path (bounded, regular files only); warns when others can read it. */
export async function readKeyFile(path: string, origin: string, ctx: ValueContext): Promise<string> {
  const full = resolvePath(ctx.cwd, path.replace(/^~(?=\/|$)/, ctx.home));
  const { text, mode } = await readKeyFileBounded(full, origin);
  if (readableByOthers(mode)) {
    ctx.warn?.(
      `${full} can be read by other users (mode ${mode.toString(8)}); run \`chmod 600 ${full}\` to keep the key private`,
    );
  }
  return text;
}

/** `@env:VAR` and `@file:PATH` references, for any credential field; other values are returned trimmed. */
export async function deref(value: string, origin: string, ctx: ValueContext): Promise<string> {
  if (value.startsWith('@env:')) {
    const name = value.slice(5);
    const v = ctx.env[name];
    if (v === undefined) throw new AscendError('CREDENTIALS_MISSING', `${origin} names @env:${name}, which is not set`);
    return v.trim();
  }
  if (value.startsWith('@file:')) return (await readKeyFile(value.slice(6), origin, ctx)).trim();
  return value.trim();
}

/** A private-key value: `-` (stdin), `@env:VAR`, `@file:PATH`, PEM or base64 text, or a path. */
export async function keyValue(value: string, origin: string, ctx: ValueContext): Promise<string> {
  switch (kindOfKeyValue(value)) {
    case 'stdin':
      if (!ctx.readStdin) throw new AscendError('USAGE', `${origin} is "-" but no standard input is available`);
      return checkKeyTextSize(await ctx.readStdin(MAX_KEY_BYTES), origin);
    case 'env':
    case 'file':
      return deref(value, origin, ctx);
    case 'literal':
      return value;
    case 'path':
      return readKeyFile(value, origin, ctx);
  }
}

export function decodeB64(value: string, origin: string): string {
  const text = Buffer.from(value.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (!text.includes('-----BEGIN'))
    throw new AscendError('KEY_NOT_PEM', `${origin} does not decode to a PEM private key`);
  return text;
}

/** fastlane's API-key JSON (`{key_id, issuer_id?, key, in_house?, is_key_content_base64?}`), parsed. */
export interface FastlaneKey {
  keyId: string;
  issuerId: string | undefined;
  key: string;
  inHouse: boolean;
  /** fastlane's JSON without issuer_id describes an individual key. */
  individual: boolean;
}

export function looksLikeJson(text: string): boolean {
  return text.trimStart().startsWith('{');
}

/** Parses fastlane's key JSON; `where` names the file (and the flag or variable that named it). */
export function parseFastlaneJson(text: string, where: string): FastlaneKey {
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
    throw new AscendError('KEY_JSON_INVALID', `${where} is not valid JSON`, { cause });
  }
  if (typeof json !== 'object' || json === null || typeof json.key_id !== 'string' || typeof json.key !== 'string') {
    throw new AscendError('KEY_JSON_INVALID', `${where} lacks "key_id" or "key"`);
  }
  const issuerId = typeof json.issuer_id === 'string' ? json.issuer_id : undefined;
  return {
    keyId: json.key_id,
    issuerId,
    key: json.is_key_content_base64 === true ? decodeB64(json.key, `"key" in ${where}`) : json.key,
    inHouse: json.in_house === true,
    individual: issuerId === undefined,
  };
}
