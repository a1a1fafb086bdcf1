import { describe, expect, it } from 'vitest';
import { DEFAULT_API_URL, loadConfig, type Surroundings } from './index.js';

const around = (over: Partial<Surroundings> = {}): Surroundings => ({
  env: {},
  cwd: '/work',
  stdoutIsTTY: true,
  stderrIsTTY: true,
  userHome: '/home/u',
  ...over,
});

describe('loadConfig', () => {
  it('defaults: Apple’s URL, human output on a terminal, home under ~/.config/ascend', () => {
    const c = loadConfig({}, around());
    expect(c).toMatchObject({
      apiUrl: DEFAULT_API_URL,
      json: false,
      verbose: false,
      quiet: false,
      home: '/home/u/.config/ascend',
      userHome: '/home/u',
      cwd: '/work',
    });
    expect(c.credentials.strictAuth).toBe(false);
  });

  it('the flag wins over ASC_API_URL, which wins over the default; a trailing slash is dropped', () => {
    expect(
      loadConfig({ apiUrl: 'http://127.0.0.1:8080/' }, around({ env: { ASC_API_URL: 'https://x.test' } })).apiUrl,
    ).toBe('http://127.0.0.1:8080');
    expect(loadConfig({}, around({ env: { ASC_API_URL: 'https://x.test//' } })).apiUrl).toBe('https://x.test');
  });

  it('a malformed or non-http URL is a usage error (exit 2) naming the value and the fix', () => {
    for (const bad of ['not a url', 'ftp://x.test']) {
      let caught: unknown;
      try {
        loadConfig({ apiUrl: bad }, around());
      } catch (e) {
        caught = e;
      }
      expect(caught).toMatchObject({ code: 'USAGE', exitCode: 2 });
      expect((caught as Error).message).toContain(`--api-url ${bad}`);
      expect((caught as { remedy: string }).remedy).toContain(DEFAULT_API_URL);
    }
  });

  it('a pipe gets JSON; --json forces it on a terminal', () => {
    expect(loadConfig({}, around({ stdoutIsTTY: false })).json).toBe(true);
    expect(loadConfig({ json: true }, around()).json).toBe(true);
  });

  it('ASCEND_HOME overrides the key-store home; HOME is used when no user home is given', () => {
    expect(loadConfig({}, around({ env: { ASCEND_HOME: '/keys' } })).home).toBe('/keys');
    const c = loadConfig({}, { ...around({ env: { HOME: '/h' } }), userHome: undefined });
    expect(c.userHome).toBe('/h');
    expect(c.home).toBe('/h/.config/ascend');
  });

  it('--strict-auth or ASC_STRICT_AUTH=1/true turns strict credential checking on; other values do not', () => {
    expect(loadConfig({ strictAuth: true }, around()).credentials.strictAuth).toBe(true);
    expect(loadConfig({}, around({ env: { ASC_STRICT_AUTH: 'TRUE' } })).credentials.strictAuth).toBe(true);
    expect(loadConfig({}, around({ env: { ASC_STRICT_AUTH: '1' } })).credentials.strictAuth).toBe(true);
    expect(loadConfig({}, around({ env: { ASC_STRICT_AUTH: 'yes' } })).credentials.strictAuth).toBe(false);
  });

  it('is read once and frozen: later changes to the environment or the object do not leak in', () => {
    const env: Record<string, string | undefined> = { ASC_KEY_ID: 'ABC' };
    const c = loadConfig(
      { keyId: 'K', issuerId: 'I', privateKey: '/p.p8', key: 'ci', individual: true },
      around({ env }),
    );
    env.ASC_KEY_ID = 'changed';
    expect(c.env.ASC_KEY_ID).toBe('ABC');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.env)).toBe(true);
    expect(Object.isFrozen(c.credentials)).toBe(true);
    expect(c.credentials).toEqual({
      key: 'ci',
      keyId: 'K',
      issuerId: 'I',
      privateKey: '/p.p8',
      individual: true,
      strictAuth: false,
    });
    expect(() => {
      (c as { apiUrl: string }).apiUrl = 'https://evil.test';
    }).toThrow(TypeError);
  });
});
