import { describe, expect, it } from 'vitest';
import { isPrivateAddress, validateTargetUrl } from './address-policy.js';

describe('notification address policy (SSRF)', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.20.30.40', true],
    ['172.31.255.1', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['::1', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:10.0.0.1', true],
    ['::ffff:8.8.8.8', false],
    ['8.8.8.8', false],
    ['2606:4700::1111', false],
    ['not an address', true],
  ])('%s is private: %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it('accepts https to public hosts and refuses the rest unless the server allows private targets', () => {
    const strict = { allowPrivate: false };
    expect(validateTargetUrl('https://hooks.slack.com/services/T/B/x', strict).hostname).toBe('hooks.slack.com');
    for (const url of [
      'http://hooks.example.com/',
      'https://169.254.169.254/latest/meta-data',
      'https://[::ffff:127.0.0.1]/',
      'https://0x7f000001/',
      'https://localhost:8080/',
      'https://user:pw@example.com/',
      'ftp://example.com/',
      'not a url',
    ])
      expect(() => validateTargetUrl(url, strict), url).toThrow(
        expect.objectContaining({ code: 'NOTIFY_TARGET_INVALID' }),
      );
    const allow = { allowPrivate: true };
    expect(validateTargetUrl('http://127.0.0.1:9999/x', allow).port).toBe('9999');
    expect(() => validateTargetUrl('ftp://127.0.0.1/', allow)).toThrow();
  });
});
