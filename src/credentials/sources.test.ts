import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ISSUER_ID, KEY_ID, p256 } from '../../test/helpers/keys.js';
import { hasThirdParty, thirdParty } from '../../test/helpers/third-party.js';
import { validatePrivateKey } from './key.js';
import { resolveCredentials } from './sources.js';
import { KeyStore } from './store.js';

let dir: string;
let home: string;
let store: KeyStore;
const key = p256();
const other = p256();
const pemOf = (s: string) => validatePrivateKey(s).pem;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ascend-src-'));
  home = join(dir, 'home');
  mkdirSync(home);
  store = new KeyStore(join(home, '.config', 'ascend'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ctx = (env: Record<string, string | undefined> = {}, extra: object = {}) => ({
  env,
  store,
  home,
  cwd: dir,
  ...extra,
});
const write = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

describe('resolveCredentials: each source', () => {
  it('flags: path, literal PEM, @env:, @file:, and "-" for stdin', async () => {
    const path = write('AuthKey.p8', key.pkcs8);
    for (const pk of [path, key.pkcs8, '@env:MY_KEY', `@file:${path}`, '-']) {
      const k = await resolveCredentials(
        { keyId: KEY_ID, issuerId: ISSUER_ID, privateKey: pk },
        ctx({ MY_KEY: key.pkcs8 }, { readStdin: async () => key.pkcs8 }),
      );
      expect(k.privateKeyPem, pk.slice(0, 12)).toBe(pemOf(key.pkcs8));
      expect(k.sources.privateKey).toBe('flags');
    }
  });

  it('ASC_* variables, with a path, content or base64', async () => {
    const path = write('k.p8', key.pkcs8);
    const base = { ASC_KEY_ID: KEY_ID, ASC_ISSUER_ID: ISSUER_ID };
    for (const extra of [
      { ASC_PRIVATE_KEY_PATH: path },
      { ASC_PRIVATE_KEY: key.pkcs8 },
      { ASC_PRIVATE_KEY_B64: Buffer.from(key.pkcs8).toString('base64') },
    ]) {
      const k = await resolveCredentials({}, ctx({ ...base, ...extra }));
      expect(k).toMatchObject({ keyId: KEY_ID, issuerId: ISSUER_ID, privateKeyPem: pemOf(key.pkcs8) });
      expect(k.sources.keyId).toBe('ASC_* environment');
    }
  });

  it("fastlane's variables (plain and base64 content, file path) and its API-key JSON file", async () => {
    const fl = { APP_STORE_CONNECT_API_KEY_KEY_ID: KEY_ID, APP_STORE_CONNECT_API_KEY_ISSUER_ID: ISSUER_ID };
    const b64 = Buffer.from(key.sec1).toString('base64');
    expect((await resolveCredentials({}, ctx({ ...fl, APP_STORE_CONNECT_API_KEY_KEY: key.sec1 }))).privateKeyPem).toBe(
      pemOf(key.pkcs8),
    );
    expect(
      (
        await resolveCredentials(
          {},
          ctx({ ...fl, APP_STORE_CONNECT_API_KEY_KEY: b64, APP_STORE_CONNECT_API_KEY_IS_KEY_CONTENT_BASE64: 'true' }),
        )
      ).privateKeyPem,
    ).toBe(pemOf(key.pkcs8));
    expect(
      (await resolveCredentials({}, ctx({ ...fl, APP_STORE_CONNECT_API_KEY_KEY_FILEPATH: write('f.p8', key.pkcs8) })))
        .sources.privateKey,
    ).toBe('fastlane environment');
    const json = write(
      'key.json',
      JSON.stringify({ key_id: KEY_ID, issuer_id: ISSUER_ID, key: key.sec1, in_house: true }),
    );
    const k = await resolveCredentials({}, ctx({ APP_STORE_CONNECT_API_KEY_PATH: json }));
    expect(k).toMatchObject({ keyId: KEY_ID, issuerId: ISSUER_ID, inHouse: true });
    const individual = write('ind.json', JSON.stringify({ key_id: KEY_ID, key: key.pkcs8 }));
    expect(
      (await resolveCredentials({}, ctx({ APP_STORE_CONNECT_API_KEY_PATH: individual }))).issuerId,
    ).toBeUndefined();
  });

  it("codemagic's variables, including @env: and @file: indirections", async () => {
    const path = write('cm.p8', key.pkcs8);
    const k = await resolveCredentials(
      {},
      ctx({
        APP_STORE_CONNECT_KEY_IDENTIFIER: '@env:CM_KEY_ID',
        CM_KEY_ID: KEY_ID,
        APP_STORE_CONNECT_ISSUER_ID: ISSUER_ID,
        APP_STORE_CONNECT_PRIVATE_KEY: `@file:${path}`,
      }),
    );
    expect(k).toMatchObject({ keyId: KEY_ID, issuerId: ISSUER_ID });
    expect(k.sources.privateKey).toBe('codemagic environment');
  });

  it("EAS's variables", async () => {
    const k = await resolveCredentials(
      {},
      ctx({
        EXPO_ASC_API_KEY_PATH: write('eas.p8', key.pkcs8),
        EXPO_ASC_KEY_ID: KEY_ID,
        EXPO_ASC_ISSUER_ID: ISSUER_ID,
      }),
    );
    expect(k.sources).toEqual({ keyId: 'EAS environment', issuerId: 'EAS environment', privateKey: 'EAS environment' });
  });

  it('stored keys by name, and the default stored key last', async () => {
    await store.add('ci', {
      keyId: KEY_ID,
      issuerId: ISSUER_ID,
      privateKeyPem: pemOf(key.pkcs8),
      inHouse: false,
      sources: { keyId: 'x', issuerId: 'x', privateKey: 'x' },
    });
    expect((await resolveCredentials({ key: 'ci' }, ctx())).name).toBe('ci');
    const def = await resolveCredentials({}, ctx());
    expect(def.sources.keyId).toBe('default stored key "ci"');
  });

  it("finds AuthKey_<KEYID>.p8 in altool's folders when only a Key ID is given", async () => {
    const folder = join(home, '.appstoreconnect', 'private_keys');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `AuthKey_${KEY_ID}.p8`), key.pkcs8);
    const k = await resolveCredentials({ keyId: KEY_ID, issuerId: ISSUER_ID }, ctx());
    expect(k.sources.privateKey).toBe(`file ${join(folder, `AuthKey_${KEY_ID}.p8`)}`);
    const custom = join(dir, 'custom');
    mkdirSync(custom);
    writeFileSync(join(custom, 'AuthKey_ZZZZZ99999.p8'), other.pkcs8);
    const k2 = await resolveCredentials(
      { keyId: 'ZZZZZ99999', issuerId: ISSUER_ID },
      ctx({ API_PRIVATE_KEYS_DIR: custom }),
    );
    expect(k2.privateKeyPem).toBe(pemOf(other.pkcs8));
  });
});

describe('resolveCredentials: order and mixing', () => {
  it('takes each field from the first source that has it: flags → ASC_* → fastlane → codemagic → EAS', async () => {
    const env = {
      ASC_KEY_ID: 'ASCKEY0001',
      ASC_ISSUER_ID: ISSUER_ID,
      ASC_PRIVATE_KEY: key.pkcs8,
      APP_STORE_CONNECT_API_KEY_KEY_ID: 'FASTLANE01',
      APP_STORE_CONNECT_KEY_IDENTIFIER: 'CODEMAGIC1',
      EXPO_ASC_KEY_ID: 'EXPOKEY001',
    };
    expect((await resolveCredentials({}, ctx(env))).keyId).toBe('ASCKEY0001');
    expect((await resolveCredentials({ keyId: 'FLAGKEY001' }, ctx(env))).keyId).toBe('FLAGKEY001');
    const { ASC_KEY_ID: _a, ...noAsc } = env;
    expect((await resolveCredentials({}, ctx(noAsc))).keyId).toBe('FASTLANE01');
    const { APP_STORE_CONNECT_API_KEY_KEY_ID: _b, ...noFl } = noAsc;
    expect((await resolveCredentials({}, ctx(noFl))).keyId).toBe('CODEMAGIC1');
    const { APP_STORE_CONNECT_KEY_IDENTIFIER: _c, ...onlyExpo } = noFl;
    expect((await resolveCredentials({}, ctx(onlyExpo))).keyId).toBe('EXPOKEY001');
  });

  it('--strict-auth refuses fields from several sources', async () => {
    const env = { ASC_ISSUER_ID: ISSUER_ID, ASC_PRIVATE_KEY: key.pkcs8 };
    await expect(resolveCredentials({ keyId: KEY_ID, strictAuth: true }, ctx(env))).rejects.toMatchObject({
      code: 'CREDENTIALS_MIXED',
    });
    await expect(resolveCredentials({ keyId: KEY_ID }, ctx(env))).resolves.toMatchObject({ keyId: KEY_ID });
  });

  it('says what is missing', async () => {
    await expect(resolveCredentials({}, ctx())).rejects.toMatchObject({ code: 'CREDENTIALS_MISSING' });
    await expect(resolveCredentials({ keyId: KEY_ID, issuerId: ISSUER_ID }, ctx())).rejects.toMatchObject({
      remedy: expect.stringContaining('AuthKey_ABCDE12345.p8'),
    });
    await expect(resolveCredentials({ keyId: KEY_ID, privateKey: key.pkcs8 }, ctx())).rejects.toThrow(/Issuer ID/);
    await expect(
      resolveCredentials({ keyId: KEY_ID, privateKey: key.pkcs8, individual: true }, ctx()),
    ).resolves.toMatchObject({ issuerId: undefined });
    await expect(
      resolveCredentials({ keyId: KEY_ID, issuerId: ISSUER_ID, privateKey: join(dir, 'nope.p8') }, ctx()),
    ).rejects.toMatchObject({
      code: 'KEY_FILE_NOT_FOUND',
    });
    await expect(
      resolveCredentials({ keyId: KEY_ID, issuerId: ISSUER_ID, privateKey: '@env:UNSET' }, ctx()),
    ).rejects.toThrow(/@env:UNSET/);
  });

  it.skipIf(!hasThirdParty)(
    "reads fastlane's published key JSON files (their 8-character key_id is refused by name)",
    async () => {
      for (const f of [
        'fastlane_asc_key.json',
        'fastlane_asc_key_base64.json',
        'fastlane_asc_key_extra_fields.json',
        'fastlane_asc_key_in_house.json',
      ]) {
        const p = thirdParty('keys', f);
        await expect(resolveCredentials({}, ctx({ APP_STORE_CONNECT_API_KEY_PATH: p })), f).rejects.toThrow(
          /"D485S484" is 8 characters/,
        );
        // With a well-formed Key ID from a flag, the rest of the file is read and the key validated.
        const k = await resolveCredentials({ keyId: KEY_ID }, ctx({ APP_STORE_CONNECT_API_KEY_PATH: p }));
        expect(k.issuerId, f).toBe(JSON.parse(readFileSync(p, 'utf8')).issuer_id);
        expect(k.inHouse, f).toBe(f.includes('in_house'));
      }
    },
  );
});

describe('KeyStore', () => {
  const apiKey = () => ({
    keyId: KEY_ID,
    issuerId: ISSUER_ID,
    privateKeyPem: pemOf(key.pkcs8),
    inHouse: false,
    sources: { keyId: '', issuerId: '', privateKey: '' },
  });

  it('stores owner-only, lists without secrets, removes, and moves the default', async () => {
    await store.add('a', apiKey());
    await store.add('b', { ...apiKey(), issuerId: undefined });
    const list = await store.list();
    expect(list.map((k) => [k.name, k.isDefault, k.individual])).toEqual([
      ['a', true, false],
      ['b', false, true],
    ]);
    expect(JSON.stringify(list)).not.toContain('PRIVATE KEY');
    const { statSync } = await import('node:fs');
    expect(statSync(join(store.home, 'keys', 'a.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(store.home, 'keys')).mode & 0o777).toBe(0o700);
    await expect(store.add('a', apiKey())).rejects.toMatchObject({ code: 'KEY_EXISTS' });
    await store.remove('a');
    expect(await store.defaultName()).toBe('b');
    await expect(store.remove('a')).rejects.toMatchObject({ code: 'KEY_NOT_STORED' });
    await expect(store.add('bad name!', apiKey())).rejects.toMatchObject({ code: 'KEY_NAME_INVALID' });
  });

  it('refuses a key file others can read, naming the chmod that fixes it', async () => {
    await store.add('ci', apiKey());
    const file = join(store.home, 'keys', 'ci.json');
    chmodSync(file, 0o644);
    await expect(store.get('ci')).rejects.toMatchObject({
      code: 'KEY_FILE_PERMISSIONS',
      remedy: `Run \`chmod 600 ${file}\`, then retry.`,
    });
    chmodSync(file, 0o600);
    await expect(store.get('ci')).resolves.toMatchObject({ keyId: KEY_ID, name: 'ci' });
  });
});

describe('resolveCredentials: hostile and mistaken input', () => {
  const collect = () => {
    const warnings: string[] = [];
    return { warnings, warn: (m: string) => warnings.push(m) };
  };

  it('never quotes a private key given as the Key ID or Issuer ID; shows its length and shape', async () => {
    const b64 = Buffer.from(key.pkcs8).toString('base64');
    const body = key.pkcs8.split('\n')[1]!;
    const cases: [Parameters<typeof resolveCredentials>[0], Record<string, string>, string][] = [
      [{ keyId: b64, issuerId: ISSUER_ID, privateKey: key.pkcs8 }, {}, 'KEY_ID_INVALID'],
      [{}, { ASC_KEY_ID: b64, ASC_ISSUER_ID: ISSUER_ID, ASC_PRIVATE_KEY: key.pkcs8 }, 'KEY_ID_INVALID'],
      [{ keyId: KEY_ID, issuerId: key.pkcs8, privateKey: key.pkcs8 }, {}, 'ISSUER_ID_INVALID'],
    ];
    for (const [flags, env, code] of cases) {
      const err = await resolveCredentials(flags, ctx(env)).catch((e: Error) => e);
      expect(err).toMatchObject({ code });
      const text = `${(err as Error).message} ${(err as Error).stack}`;
      expect(text).not.toContain(b64.slice(0, 40));
      expect(text).not.toContain(body);
      expect((err as Error).message).toMatch(/\(\d+ characters of (base64-like|PEM) text, not shown\)/);
    }
    // A short mistake is still quoted, so the user sees what was wrong.
    await expect(
      resolveCredentials({ keyId: 'abcde12345', issuerId: ISSUER_ID, privateKey: key.pkcs8 }, ctx()),
    ).rejects.toThrow(/"abcde12345"/);
  });

  it('normalises an upper-case Issuer ID to lower case, and says so', async () => {
    const w = collect();
    const k = await resolveCredentials(
      { keyId: KEY_ID, issuerId: ISSUER_ID.toUpperCase(), privateKey: write('k.p8', key.pkcs8) },
      ctx({}, { warn: w.warn }),
    );
    expect(k.issuerId).toBe(ISSUER_ID);
    expect(w.warnings.join('\n')).toMatch(/upper-case.*lower case/);
  });

  it("takes fastlane's key JSON as --private-key, with its Key ID and Issuer ID", async () => {
    const json = write(
      'key.json',
      JSON.stringify({ key_id: KEY_ID, issuer_id: ISSUER_ID, key: key.pkcs8, in_house: false }),
    );
    const k = await resolveCredentials({ privateKey: json }, ctx());
    expect(k).toMatchObject({ keyId: KEY_ID, issuerId: ISSUER_ID, privateKeyPem: pemOf(key.pkcs8) });
    // Flags given beside it win over the file's fields.
    await expect(resolveCredentials({ privateKey: json, keyId: 'abc' }, ctx())).rejects.toMatchObject({
      code: 'KEY_ID_INVALID',
    });
    await expect(resolveCredentials({ privateKey: write('bad.json', '{"key_id": 1}') }, ctx())).rejects.toMatchObject({
      code: 'KEY_JSON_INVALID',
    });
  });

  it('warns about a literal key on the command line and about a key file others can read', async () => {
    const w = collect();
    await resolveCredentials({ keyId: KEY_ID, issuerId: ISSUER_ID, privateKey: key.pkcs8 }, ctx({}, { warn: w.warn }));
    expect(w.warnings).toHaveLength(1);
    expect(w.warnings[0]).toMatch(/`ps`.*`-`.*@env:VAR/);
    const loose = write('loose.p8', key.pkcs8);
    chmodSync(loose, 0o644);
    const tight = write('tight.p8', key.pkcs8);
    chmodSync(tight, 0o600);
    const w2 = collect();
    await resolveCredentials({ keyId: KEY_ID, issuerId: ISSUER_ID, privateKey: tight }, ctx({}, { warn: w2.warn }));
    expect(w2.warnings).toEqual([]);
    if (process.platform !== 'win32') {
      await resolveCredentials({ keyId: KEY_ID, issuerId: ISSUER_ID, privateKey: loose }, ctx({}, { warn: w2.warn }));
      expect(w2.warnings).toEqual([expect.stringContaining(`chmod 600 ${loose}`)]);
    }
  });

  it('reads at most 16 KiB from standard input and refuses more', async () => {
    let asked: number | undefined;
    const endless = async (max?: number) => {
      asked = max;
      return 'A'.repeat((max ?? 0) + 1);
    };
    await expect(
      resolveCredentials({ keyId: KEY_ID, issuerId: ISSUER_ID, privateKey: '-' }, ctx({}, { readStdin: endless })),
    ).rejects.toMatchObject({ code: 'KEY_FILE_TOO_LARGE' });
    expect(asked).toBe(16 * 1024);
  });

  it.runIf(process.platform !== 'win32')('refuses /dev/zero everywhere a key file is named', async () => {
    for (const [flags, env] of [
      [{ keyId: KEY_ID, issuerId: ISSUER_ID, privateKey: '/dev/zero' }, {}],
      [{ keyId: KEY_ID, issuerId: ISSUER_ID, privateKey: '@file:/dev/zero' }, {}],
      [{}, { ASC_KEY_ID: KEY_ID, ASC_ISSUER_ID: ISSUER_ID, ASC_PRIVATE_KEY_PATH: '/dev/zero' }],
      [{}, { APP_STORE_CONNECT_API_KEY_PATH: '/dev/urandom' }],
      [{}, { EXPO_ASC_KEY_ID: KEY_ID, EXPO_ASC_ISSUER_ID: ISSUER_ID, EXPO_ASC_API_KEY_PATH: '/dev/zero' }],
    ] as const) {
      await expect(resolveCredentials(flags, ctx(env)), JSON.stringify(env)).rejects.toMatchObject({
        code: 'KEY_FILE_NOT_REGULAR',
      });
    }
  });
});
