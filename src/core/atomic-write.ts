import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

/**
 * Writes a file whole or not at all: a new temporary file beside it, then a rename. The temporary name is
 * random and created exclusively (O_EXCL, which also refuses to follow a symlink planted at that name), so in
 * a folder others can write to nobody can pre-create it to read a key or a .p12 as it is written, and the
 * file is born with `mode` rather than inheriting an existing file's. `sync` flushes it to disk before the rename.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o600,
  opts: { sync?: boolean } = {},
): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    // The mode given to open() passes through the umask; set it exactly.
    await fh.chmod(mode);
    // Keys that nothing can re-create (a master key) are flushed to disk before they replace the old file.
    if (opts.sync) await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}
