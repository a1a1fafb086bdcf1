import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { systemClock } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import { isIndividualKey } from '../../credentials/types.js';
import { validateBundleIdentifier } from '../../signing/bundle-id.js';
import { ensureSigning } from '../../signing/ensure.js';
import { SigningKeyStore } from '../../signing/key-store.js';
import { listSigning, revokeSigning } from '../../signing/list.js';
import { writeOutputs } from '../../signing/outputs.js';
import { readPasswordFile } from '../../signing/password.js';
import { sanitize, table } from '../io.js';
import { protect, type Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

const keysOf = (rt: Runtime) => new SigningKeyStore(rt.config.home);

function renewDays(value: unknown): number {
  const n = Number(value ?? 30);
  if (!Number.isInteger(n) || n < 0 || n > 300)
    throw new AscendError('USAGE', `--renew-within-days ${String(value)} is not a whole number of days from 0 to 300`);
  return n;
}

/** Everything local is checked before Apple is asked for anything, so bad input leaves nothing half-made. */
async function checkOutDir(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (st && !st.isDirectory())
    throw new AscendError('USAGE', `--out ${dir} is a file, not a folder`, { remedy: 'Give a folder for --out.' });
}

/** `ascend signing ensure --app BUNDLE_ID [--type app-store] --out DIR [--p12-password-file F]`. */
export async function ensure(
  rt: Runtime,
  _args: ArgsOf<'signingEnsure'>,
  opts: OptionsOf<'signingEnsure'>,
): Promise<number> {
  const bundleIdentifier = validateBundleIdentifier(opts.app);
  const out = resolve(rt.config.cwd, opts.out);
  const days = renewDays(opts.renewWithinDays);
  const passwordPath = opts.p12PasswordFile ? resolve(rt.config.cwd, opts.p12PasswordFile) : undefined;
  const password = passwordPath ? await readPasswordFile(passwordPath) : undefined;
  if (password) rt.out.redactor.add(password);
  await checkOutDir(out);
  const key = await rt.key();
  const result = await ensureSigning({
    client: await rt.client(),
    keys: keysOf(rt),
    clock: systemClock,
    bundleIdentifier,
    renewWithinDays: days,
    individualKey: isIndividualKey(key),
    onWarning: (w) => rt.out.logger.warn(w),
  });
  protect(rt.out, result.held.privateKeyPem);
  const { files, summary, password: used } = await writeOutputs(out, result, password, passwordPath);
  rt.out.redactor.add(used);
  if (rt.config.json) {
    rt.out.json(summary);
    return 0;
  }
  const how = (created: boolean) => (created ? 'created' : 'reused');
  rt.out.print(
    [
      `bundle ID ${bundleIdentifier} (${result.bundleId.id}) ${result.bundleId.created ? 'registered' : 'reused'}`,
      `certificate ${sanitize(result.certificate.id)} (serial ${sanitize(result.certificate.serialNumber)}) ${how(result.certificate.created)}, expires ${sanitize(result.certificate.expirationDate)}`,
      `profile "${sanitize(result.profile.name)}" (${result.profile.uuid}) ${how(result.profile.created)}, expires ${result.profile.expirationDate}`,
      `wrote ${files.p12}${files.passwordFile ? ` (password in ${files.passwordFile})` : ''}, ${files.profile}, ${files.summary}`,
      ...result.revokedHeld.map(
        (id) => `note: certificate ${id} (key held here) is no longer listed by Apple (revoked)`,
      ),
    ].join('\n'),
  );
  return 0;
}

/** `ascend signing list`: certificates (with whether this machine holds the key) and profiles, with expiry. */
export async function list(rt: Runtime): Promise<number> {
  const inv = await listSigning(await rt.client(), keysOf(rt));
  if (rt.config.json) {
    rt.out.json(inv);
    return 0;
  }
  rt.out.print(
    table(
      ['CERTIFICATE ID', 'TYPE', 'NAME', 'SERIAL', 'EXPIRES', 'KEY HELD'],
      inv.certificates.map((c) => [
        c.id,
        c.certificateType,
        c.name,
        c.serialNumber,
        c.expirationDate,
        c.keyHeld ? 'yes' : 'no',
      ]),
    ),
  );
  rt.out.print(
    table(
      ['PROFILE ID', 'TYPE', 'STATE', 'NAME', 'EXPIRES'],
      inv.profiles.map((p) => [p.id, p.profileType, p.profileState, p.name, p.expirationDate]),
    ),
  );
  return 0;
}

/** `ascend signing revoke CERT_ID`. */
export async function revoke(rt: Runtime, [id]: ArgsOf<'signingRevoke'>): Promise<number> {
  const r = await revokeSigning(await rt.client(), keysOf(rt), id);
  if (rt.config.json) rt.out.json({ revoked: r.id, keyRemoved: r.keyRemoved });
  else rt.out.print(`revoked certificate ${r.id}${r.keyRemoved ? '; removed its private key from this machine' : ''}`);
  return 0;
}
