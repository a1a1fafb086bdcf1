import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { type RawZipEntry, zipOf } from '../sample/hostile.js';
import { inspectIpa } from './inspect.js';
import { MAX_ZIP_ENTRIES, ZipReader } from './zip.js';

const dir = mkdtempSync(join(tmpdir(), 'ascend-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const write = (b: Buffer): string => {
  const p = join(dir, `z${n++}.ipa`);
  writeFileSync(p, b);
  return p;
};
const plist = Buffer.from('<plist><dict><key>CFBundleIdentifier</key><string>com.example.app</string></dict></plist>');
const app = (extra: RawZipEntry[] = []): RawZipEntry[] => [
  { name: 'Payload/X.app/Info.plist', data: plist },
  { name: 'Payload/X.app/X', data: Buffer.from('binary') },
  ...extra,
];

async function openFails(b: Buffer, code: string, message: RegExp): Promise<void> {
  const err = await ZipReader.open(write(b)).then(
    (z) => z.close(),
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code });
  expect((err as Error).message).toMatch(message);
}

describe('ZipReader', () => {
  it('reads stored and deflated entries, zip64 directories and zip64 extra fields', async () => {
    const z = await ZipReader.open(write(zipOf(app())));
    expect(z.names()).toEqual(['Payload/X.app/Info.plist', 'Payload/X.app/X']);
    expect((await z.read('Payload/X.app/X', 100)).toString()).toBe('binary');
    await z.close();
    // More entries than the classic end record can count.
    const many = zipOf(app(Array.from({ length: 70_000 }, (_, i) => ({ name: `f/${i}`, data: Buffer.alloc(0) }))));
    const big = await ZipReader.open(write(many));
    expect(big.entries.size).toBe(70_002);
    await big.close();
    const y = new yazl.ZipFile();
    y.addBuffer(plist, 'Payload/X.app/Info.plist', { forceZip64Format: true });
    y.addBuffer(Buffer.alloc(5000, 0x61), 'Payload/X.app/X', { forceZip64Format: true, compress: true });
    y.end();
    const chunks: Buffer[] = [];
    for await (const c of y.outputStream) chunks.push(c as Buffer);
    const z64 = await ZipReader.open(write(Buffer.concat(chunks)));
    expect((await z64.read('Payload/X.app/X', 10_000)).equals(Buffer.alloc(5000, 0x61))).toBe(true);
    await z64.close();
  });

  it(`refuses more than ${MAX_ZIP_ENTRIES} entries before reading the directory`, async () => {
    const b = zipOf(app(Array.from({ length: 70_000 }, (_, i) => ({ name: `f/${i}`, data: Buffer.alloc(0) }))));
    // Raise the zip64 end record's count: the refusal must come from the count, not from reading records.
    const z64 = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06]));
    b.writeBigUInt64LE(BigInt(MAX_ZIP_ENTRIES + 1), z64 + 32);
    await openFails(b, 'IPA_TOO_MANY_ENTRIES', /declares 200001 entries; ascend reads at most 200000/);
  });

  it('refuses directory records sharing one local header (issue 10 item 5)', async () => {
    const shared = Array.from({ length: 1000 }, (_, i) => ({
      name: `Payload/X.app/copy${i}`,
      data: Buffer.alloc(0),
      sharesLocalOf: 1,
    }));
    await openFails(zipOf(app(shared)), 'IPA_OVERLAPPING_ENTRIES', /sharing bytes/);
  });

  it('refuses two entries with one name: the last would silently win', async () => {
    const twice = app([{ name: 'Payload/X.app/Info.plist', data: Buffer.from('<plist><dict/></plist>') }]);
    await openFails(zipOf(twice), 'IPA_DUPLICATE_ENTRY', /Payload\/X.app\/Info.plist" more than once/);
    await expect(inspectIpa(write(zipOf(twice)))).rejects.toMatchObject({ code: 'IPA_DUPLICATE_ENTRY' });
  });

  it('refuses a local header naming another file than the directory does', async () => {
    const p = write(zipOf([{ name: 'Payload/X.app/Info.plist', localName: 'Payload/X.app/Evil.plist', data: plist }]));
    const z = await ZipReader.open(p);
    await expect(z.read('Payload/X.app/Info.plist', 1000)).rejects.toMatchObject({
      code: 'IPA_NAME_MISMATCH',
      message: expect.stringContaining('Evil.plist'),
    });
    await z.close();
    await expect(inspectIpa(p)).rejects.toMatchObject({ code: 'IPA_NAME_MISMATCH' });
  });

  it('refuses unsafe paths, bad CRCs, data running into the directory, and non-zips', async () => {
    for (const name of ['../evil', '/etc/passwd', 'C:/x', 'a\\..\\b', 'Payload/../../x'])
      await openFails(zipOf([{ name, data: Buffer.from('x') }]), 'IPA_UNSAFE_PATH', /unsafe entry path/);
    const bad = zipOf(app());
    bad.writeUInt32LE(0, 14); // the first local header's CRC is not checked; the directory's is
    const cd = bad.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bad.writeUInt32LE(12345, cd + 16);
    const z = await ZipReader.open(write(bad));
    await expect(z.read('Payload/X.app/Info.plist', 1000)).rejects.toMatchObject({
      code: 'IPA_CORRUPT',
      message: /CRC-32/,
    });
    await z.close();
    const long = zipOf(app());
    const cd2 = long.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    long.writeUInt32LE(1_000_000, cd2 + 20);
    await openFails(long, 'IPA_OVERLAPPING_ENTRIES', /running into its directory/);
    await openFails(Buffer.from('not a zip at all'), 'IPA_NOT_ZIP', /not a zip archive/);
  });
});
