import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBinary } from 'plist';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIpa, makeProfile } from '../sample/builder.js';
import { inspectIpa, MAX_METADATA_BYTES, MAX_NESTED_BUNDLES } from './inspect.js';
import { parsePlist } from './plist.js';
import { parseProfile } from './profile.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ascend-ipa-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = (n: string) => join(dir, n);

describe('inspectIpa', () => {
  it('reads the app, its binary or XML Info.plist and its profile, with the same facts either way', async () => {
    await buildIpa(path('bin.ipa'), {
      bundleId: 'com.example.app',
      version: '1.4.0',
      build: '57',
      plistFormat: 'binary',
    });
    await buildIpa(path('xml.ipa'), { bundleId: 'com.example.app', version: '1.4.0', build: '57', plistFormat: 'xml' });
    const a = await inspectIpa(path('bin.ipa'));
    const b = await inspectIpa(path('xml.ipa'));
    expect(a.app).toMatchObject({
      bundleId: 'com.example.app',
      shortVersion: '1.4.0',
      buildVersion: '57',
      plistFormat: 'binary',
      executablePresent: true,
      minimumOSVersion: '16.0',
      usesNonExemptEncryption: false,
    });
    expect(b.app?.plistFormat).toBe('xml');
    expect({ ...b.app, plistFormat: 'binary' }).toEqual(a.app);
    expect(a.platform).toBe('IOS');
    expect(a.app?.profile).toMatchObject({
      kind: 'app-store',
      teamId: 'TEAM123456',
      applicationIdentifier: 'TEAM123456.com.example.app',
      signatureValid: true,
      encoding: 'der',
    });
  });

  it('finds Payload/ inside one wrapping folder, ignores __MACOSX/, and reads extensions and watch apps', async () => {
    await buildIpa(path('wrapped.ipa'), {
      wrapper: 'Export',
      macosxJunk: true,
      extensions: [{ name: 'Share' }, { name: 'Widget', profile: { kind: 'development' } }],
      watchApps: [{ name: 'Watch' }],
    });
    const f = await inspectIpa(path('wrapped.ipa'));
    expect(f.wrapper).toBe('Export');
    expect(f.app?.path).toBe('Export/Payload/Sample.app');
    expect(f.extensions.map((e) => [e.bundleId, e.profile?.kind])).toEqual([
      ['com.example.sandbox.one.share', 'app-store'],
      ['com.example.sandbox.one.widget', 'development'],
    ]);
    expect(f.watchApps.map((w) => w.bundleId)).toEqual(['com.example.sandbox.one.watchkitapp']);
  });

  it('computes MD5 and SHA-256 only when asked, equal to a full read of the file', async () => {
    await buildIpa(path('sum.ipa'));
    expect((await inspectIpa(path('sum.ipa'))).checksums).toBeUndefined();
    const f = await inspectIpa(path('sum.ipa'), { checksums: true });
    const bytes = readFileSync(path('sum.ipa'));
    expect(f.checksums).toEqual({
      md5: createHash('md5').update(bytes).digest('hex'),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(f.size).toBe(bytes.length);
  });

  it('recognises a macOS .pkg (xar) and reports it as such', async () => {
    writeFileSync(path('app.pkg'), Buffer.concat([Buffer.from('xar!'), Buffer.alloc(60)]));
    expect(await inspectIpa(path('app.pkg'))).toMatchObject({ kind: 'pkg', platform: 'MAC_OS', app: null });
  });

  it('reads profile kinds from signed CMS: App Store, ad hoc, development, enterprise; a tampered one fails', async () => {
    for (const kind of ['app-store', 'ad-hoc', 'development', 'enterprise'] as const) {
      expect((await parseProfile(makeProfile('com.x', { kind }), 'p')).kind).toBe(kind);
    }
    await expect(parseProfile(makeProfile('com.x', {}, true), 'p')).rejects.toMatchObject({
      code: 'PROFILE_INVALID',
      message: /altered after signing/,
    });
  });
});

describe('inspectIpa: hostile and broken archives', () => {
  it('rejects a missing file, a non-zip, a zip without Payload/ and two apps', async () => {
    await expect(inspectIpa(path('nope.ipa'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    writeFileSync(path('text.ipa'), 'not-a-zip-file\n');
    await expect(inspectIpa(path('text.ipa'))).rejects.toMatchObject({ code: 'IPA_NOT_ZIP' });
    await buildIpa(path('two.ipa'), {
      extraEntries: [{ name: 'Payload/Other.app/Info.plist', data: Buffer.from('x') }],
    });
    await expect(inspectIpa(path('two.ipa'))).rejects.toMatchObject({ code: 'IPA_NO_APP', message: /2 app bundles/ });
  });

  it('refuses entries with ".." or absolute paths', async () => {
    // Zip writers refuse such names, so a placeholder of the same length is patched in the raw bytes.
    for (const [name, evil] of [
      ['Payload/@@/@@/evil.sh', 'Payload/../../evil.sh'],
      ['@tmp/evil.sh', '/tmp/evil.sh'],
    ] as const) {
      await buildIpa(path('dots.ipa'), { extraEntries: [{ name, data: Buffer.from('x') }] });
      const bytes = readFileSync(path('dots.ipa'));
      writeFileSync(path('dots.ipa'), Buffer.from(bytes.toString('latin1').split(name).join(evil), 'latin1'));
      await expect(inspectIpa(path('dots.ipa')), evil).rejects.toMatchObject({ code: 'IPA_UNSAFE_PATH' });
    }
  });

  it('refuses a deflate bomb (an Info.plist declaring or inflating far past any real one)', async () => {
    const bomb = Buffer.alloc(20 * 1024 * 1024, 0x20); // 20 MiB of spaces deflate to a few KiB
    await buildIpa(path('bomb.ipa'), { rawPlist: bomb });
    expect(readFileSync(path('bomb.ipa')).length).toBeLessThan(200_000);
    await expect(inspectIpa(path('bomb.ipa'))).rejects.toMatchObject({ code: 'IPA_ENTRY_TOO_LARGE' });
  });

  it('refuses an entry that lies about its size', async () => {
    await buildIpa(path('liar.ipa'), { plistFormat: 'xml' });
    const bytes = readFileSync(path('liar.ipa'));
    // Shrink Info.plist's uncompressed size in the central directory (offset 24 of its header).
    const name = Buffer.from('Payload/Sample.app/Info.plist');
    for (
      let i = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
      i >= 0;
      i = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), i + 4)
    ) {
      const len = bytes.readUInt16LE(i + 28);
      if (bytes.subarray(i + 46, i + 46 + len).equals(name)) bytes.writeUInt32LE(10, i + 24);
    }
    writeFileSync(path('liar.ipa'), bytes);
    await expect(inspectIpa(path('liar.ipa'))).rejects.toMatchObject({ code: 'IPA_CORRUPT' });
  });

  it('refuses deep, cyclic, huge and malformed plists with PLIST_INVALID, never a crash', async () => {
    const deepXml = `<?xml version="1.0"?><plist version="1.0">${'<array>'.repeat(100)}${'</array>'.repeat(100)}</plist>`;
    expect(() => parsePlist(Buffer.from(deepXml), 'x')).toThrow(/nests deeper than 64/);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(() => parsePlist(Buffer.from(buildBinary(deep as never)), 'x')).toThrow(/nests deeper than 64/);
    // A one-element array whose only element is itself.
    const cyclic = Buffer.from(buildBinary(['x'] as never));
    const t = cyclic.length - 32;
    const refSize = cyclic[t + 7]!;
    const top = Number(cyclic.readBigUInt64BE(t + 16));
    const table = Number(cyclic.readBigUInt64BE(t + 24));
    const arrayOffset = cyclic.readUIntBE(table + top * cyclic[t + 6]!, cyclic[t + 6]!);
    cyclic.writeUIntBE(top, arrayOffset + 1, refSize);
    expect(() => parsePlist(cyclic, 'x')).toThrow(/reference cycle/);
    expect(() => parsePlist(Buffer.alloc(9 * 1024 * 1024, 0x20), 'x')).toThrow(/at most/);
    expect(() => parsePlist(Buffer.from('<plist><dict><key>a</ke'), 'x')).toThrow(/not well-formed/);
    await buildIpa(path('badplist.ipa'), {
      rawPlist: Buffer.from('<?xml version="1.0"?><plist version="1.0">&#32;&amp;</plist>'),
    });
    await expect(inspectIpa(path('badplist.ipa'))).rejects.toMatchObject({
      code: 'PLIST_INVALID',
      message: /dictionary/,
    });
  });
});

describe('inspectIpa: bounded work whatever the archive holds', () => {
  it(`refuses more than ${MAX_NESTED_BUNDLES} extensions and watch apps`, async () => {
    const extensions = Array.from({ length: MAX_NESTED_BUNDLES + 1 }, (_, i) => ({ name: `E${i}`, profile: null }));
    await buildIpa(path('many-ext.ipa'), { extensions });
    await expect(inspectIpa(path('many-ext.ipa'))).rejects.toMatchObject({
      code: 'IPA_TOO_MANY_ENTRIES',
      message: expect.stringContaining(`holds ${MAX_NESTED_BUNDLES + 1} extensions and watch apps`),
    });
  });

  it(`refuses Info.plists and profiles adding up to more than ${MAX_METADATA_BYTES} bytes`, async () => {
    // Each plist is valid and under the per-file limit; together they are not.
    const padded = (id: string) =>
      Buffer.from(
        `<plist><dict><key>CFBundleIdentifier</key><string>${id}</string><!--${' '.repeat(7_500_000)}--></dict></plist>`,
      );
    const extensions = Array.from({ length: 4 }, (_, i) => ({
      name: `E${i}`,
      profile: null,
      rawPlist: padded(`com.example.sandbox.one.e${i}`),
    }));
    await buildIpa(path('fat-ext.ipa'), { extensions });
    await expect(inspectIpa(path('fat-ext.ipa'))).rejects.toMatchObject({
      code: 'IPA_ENTRY_TOO_LARGE',
      message: expect.stringMatching(
        /more than 25165824 bytes of Info.plists and profiles \(at .*E3\.appex\/Info\.plist\)/,
      ),
    });
    // Three of them fit: the budget is a total, not a per-file cap.
    await buildIpa(path('fat-ok.ipa'), { extensions: extensions.slice(0, 3) });
    expect((await inspectIpa(path('fat-ok.ipa'))).extensions).toHaveLength(3);
  });
});
