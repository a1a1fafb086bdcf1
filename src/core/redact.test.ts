import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { createRedactor, REDACTED } from './redact.js';

describe('redact', () => {
  it('removes PEM blocks, JWTs, bearer values, signed URL queries and registered secrets', () => {
    const r = createRedactor();
    r.add('c2VjcmV0LWJvZHktbGluZQ==');
    const text = [
      '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----',
      'token eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl',
      'Authorization: Bearer abc.def-ghi',
      'PUT https://upload.example/part/3?exp=1&sig=SIGNATURE and https://s3.example/x?X-Amz-Signature=abc&X-Amz-Date=1',
      'body c2VjcmV0LWJvZHktbGluZQ== end',
      'plain https://api.appstoreconnect.apple.com/v1/apps?filter[bundleId]=com.example.app stays',
    ].join('\n');
    const out = r(text);
    expect(out).not.toMatch(
      /MIGHAgEAMBMGByqGSM49|eyJhbGci|abc\.def-ghi|SIGNATURE|X-Amz-Signature=abc|c2VjcmV0LWJvZHktbGluZQ==/,
    );
    expect(out.split(REDACTED).length - 1).toBeGreaterThanOrEqual(6);
    expect(out).toContain('https://upload.example/part/3?[REDACTED]');
    expect(out).toContain('filter[bundleId]=com.example.app stays');
  });

  it('applies to every log line', () => {
    const lines: string[] = [];
    const log = createLogger((l) => lines.push(l), 'debug', createRedactor());
    log.debug('sending', {
      url: 'https://u.example/p?sig=zzz',
      auth: 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl',
    });
    expect(lines.join('')).not.toMatch(/zzz|eyJ/);
  });
});
