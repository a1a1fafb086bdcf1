import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AscendError } from '../core/errors.js';
import { buildP12, newPassword } from './crypto.js';
import type { EnsureResult } from './ensure.js';
import { readPasswordFile } from './password.js';

export const P12_NAME = 'distribution.p12';
export const PASSWORD_NAME = 'distribution.p12.password';
export const SUMMARY_NAME = 'signing.json';

export interface WrittenFiles {
  p12: string;
  /** Set when the password was generated (or reused from an earlier generated one) and written beside the .p12. */
  passwordFile: string | undefined;
  profile: string;
  summary: string;
}

/** The summary written beside the files: ids, dates and file names; nothing secret. */
export function summaryOf(r: EnsureResult, files: WrittenFiles) {
  return {
    bundleId: r.bundleId,
    certificate: r.certificate,
    profile: r.profile,
    changes: r.changes,
    files: { p12: files.p12, passwordFile: files.passwordFile ?? null, profile: files.profile },
  };
}

async function atomic(path: string, data: Buffer | string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

/**
 * Writes `distribution.p12` (0600), the password beside it when none was given (0600; an earlier generated
 * one is reused so the password stays stable across runs), `<bundle id>.mobileprovision` and `signing.json`.
 */
export async function writeOutputs(
  dir: string,
  r: EnsureResult,
  password: string | undefined,
): Promise<{ files: WrittenFiles; summary: ReturnType<typeof summaryOf> }> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (cause) {
    throw new AscendError('USAGE', `--out ${dir} cannot be used as a folder (${(cause as Error).message})`, { cause });
  }
  let passwordFile: string | undefined;
  let pw = password;
  if (pw === undefined) {
    passwordFile = join(dir, PASSWORD_NAME);
    pw = (await exists(passwordFile)) ? await readPasswordFile(passwordFile) : newPassword();
    await atomic(passwordFile, `${pw}\n`, 0o600);
  }
  const friendly = `Apple Distribution (${r.certificate.serialNumber})`;
  const files: WrittenFiles = {
    p12: join(dir, P12_NAME),
    passwordFile,
    profile: join(dir, `${r.bundleId.identifier}.mobileprovision`),
    summary: join(dir, SUMMARY_NAME),
  };
  await atomic(
    files.p12,
    buildP12(r.held.privateKeyPem, Buffer.from(r.held.certificateContent, 'base64'), pw, friendly),
    0o600,
  );
  await atomic(files.profile, r.profileContent, 0o644);
  const summary = summaryOf(r, files);
  await atomic(files.summary, `${JSON.stringify(summary, null, 2)}\n`, 0o644);
  return { files, summary };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
