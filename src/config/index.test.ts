import { describe, expect, it } from 'vitest';
import { DEFAULT_API_URL, loadConfig } from './index.js';

const s = (env: Record<string, string> = {}) => ({ env, cwd: '/tmp', stdoutIsTTY: true, stderrIsTTY: true });

describe('loadConfig: the API base URL', () => {
  it('takes --api-url first, then ASC_API_URL, then Apple', () => {
    expect(loadConfig({ apiUrl: 'http://127.0.0.1:9/' }, s({ ASC_API_URL: 'http://x:1' })).apiUrl).toBe(
      'http://127.0.0.1:9',
    );
    expect(loadConfig({}, s({ ASC_API_URL: 'http://127.0.0.1:8080' })).apiUrl).toBe('http://127.0.0.1:8080');
    expect(loadConfig({}, s()).apiUrl).toBe(DEFAULT_API_URL);
  });

  it('names where a bad URL came from', () => {
    expect(() => loadConfig({}, s({ ASC_API_URL: '::::' }))).toThrow(/^ASC_API_URL :::: is not a URL/);
    expect(() => loadConfig({ apiUrl: 'ftp://x' }, s())).toThrow(/^--api-url ftp:\/\/x is not an http\(s\) URL/);
  });
});
