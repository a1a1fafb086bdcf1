import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { createRedactor, REDACTED } from './redact.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----';

describe('redact', () => {
  it('removes PEM blocks, JWTs, bearer values, signed URL query values and registered secrets', () => {
    const r = createRedactor();
    r.add('c2VjcmV0LWJvZHktbGluZQ==');
    const text = [
      PEM,
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
    expect(out.split(REDACTED).length - 1).toBe(6);
    // Only the credential values go: the URL, the other parameters and the text around stay readable.
    expect(out).toContain('https://upload.example/part/3?exp=1&sig=[REDACTED] and');
    expect(out).toContain('https://s3.example/x?X-Amz-Signature=[REDACTED]&X-Amz-Date=1');
    expect(out).toContain('body [REDACTED] end');
    expect(out).toContain('filter[bundleId]=com.example.app stays');
  });

  it('never cuts the text after a BEGIN marker that is not a key (issue: output destroyed)', () => {
    const r = createRedactor();
    const remedy = 'Use the .p8 file as downloaded: it starts with "-----BEGIN PRIVATE KEY-----".';
    expect(r(remedy)).toBe(remedy);
    const doc = JSON.stringify({ error: { remedy, exitCode: 6 } }, null, 2);
    expect(JSON.parse(r(doc))).toEqual({ error: { remedy, exitCode: 6 } });
  });

  it("keeps Apple's own 401 text about a bearer token", () => {
    const apple =
      'Provide a properly configured and signed bearer token, and make sure that it has not expired. Bearer token';
    expect(createRedactor()(apple)).toBe(apple);
  });

  it('redacts a whole block, also JSON-escaped or with literal \\n, and keeps what follows', () => {
    const r = createRedactor();
    const escaped = JSON.stringify({ key: PEM, after: 'kept' });
    const out = r(escaped);
    expect(out).not.toContain('MIGHAgEA');
    expect(JSON.parse(out)).toEqual({ key: REDACTED, after: 'kept' });
    expect(r(`x ${PEM.replaceAll('\n', '\\n')} y`)).toBe(`x ${REDACTED} y`);
  });

  it('redacts key material after a BEGIN line without END (a key cut short), not the text after it', () => {
    const cut = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg';
    const out = createRedactor()(`read ${cut}" then more`);
    expect(out).not.toContain('MIGHAgEA');
    expect(out).toBe(`read ${REDACTED}" then more`);
  });

  it('takes only JWT-shaped tokens (three base64url segments, JSON header)', () => {
    const r = createRedactor();
    expect(r('version 1.2.3 and a.b.c')).toBe('version 1.2.3 and a.b.c');
    expect(r('x eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln y')).toBe(`x ${REDACTED} y`);
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
