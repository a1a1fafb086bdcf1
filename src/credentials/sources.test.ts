import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
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
