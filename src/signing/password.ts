import { readFile, stat } from 'node:fs/promises';
import { AscendError } from '../core/errors.js';

const MAX_PASSWORD_FILE_BYTES = 4096;

/**
 * Reads the `.p12` password from a file, refusing one that others can read: the password protects the team's
 * distribution key. The first line is the password (a trailing newline is not part of it).
 */
export async function readPasswordFile(path: string): Promise<string> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch {
    throw new AscendError('SIGNING_PASSWORD_FILE_MISSING', `the .p12 password file ${path} does not exist`);
  }
  if (!st.isFile()) throw new AscendError('SIGNING_PASSWORD_FILE_MISSING', `${path} is not a file`);
  if ((st.mode & 0o077) !== 0) {
    throw new AscendError(
      'SIGNING_PASSWORD_FILE_PERMISSIONS',
      `the .p12 password file ${path} can be read by other users (mode ${(st.mode & 0o777).toString(8)})`,
      { remedy: `Run \`chmod 600 ${path}\`, then retry.` },
    );
  }
  if (st.size > MAX_PASSWORD_FILE_BYTES)
    throw new AscendError('SIGNING_PASSWORD_FILE_INVALID', `the .p12 password file ${path} is ${st.size} bytes`);
  const first = (await readFile(path, 'utf8')).split(/\r?\n/)[0] ?? '';
  if (!first || first.length > 128 || /[\u0000-\u001f\u007f]/.test(first))
    throw new AscendError(
      'SIGNING_PASSWORD_FILE_INVALID',
      `the first line of ${path} is not a usable password (${first ? 'too long or has control characters' : 'empty'})`,
    );
  return first;
}
