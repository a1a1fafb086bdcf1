import { listApps } from '../../asc/resources/apps.js';
import { AscendError } from '../../core/errors.js';
import { resolveCredentials } from '../../credentials/sources.js';
import { validateKeyName } from '../../credentials/store.js';
import { isIndividualKey } from '../../credentials/types.js';
import { probeRole } from '../../doctor/probe.js';
import { table } from '../io.js';
import { createRuntime, protect, type Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

/**
 * `ascend keys add`: validates the key exactly as given and stores it. The key comes from the flags
 * (`--key-id`, `--issuer-id`, `--private-key AuthKey.p8`, or `--private-key key.json` with fastlane's key
 * JSON alone), or else from fastlane's APP_STORE_CONNECT_API_KEY_PATH; no other environment or stored key.
 */
export async function add(rt: Runtime, _args: ArgsOf<'keysAdd'>, opts: OptionsOf<'keysAdd'>): Promise<number> {
  const flags = rt.config.credentials;
  const name = validateKeyName(opts.name);
  const jsonPath = rt.config.env.APP_STORE_CONNECT_API_KEY_PATH;
  const fromFlags = Boolean(flags.keyId || flags.issuerId || flags.privateKey);
  if (!flags.privateKey && !(jsonPath && !fromFlags)) {
    throw new AscendError('USAGE', '`keys add` needs --private-key (with --key-id and, for a team key, --issuer-id)', {
      remedy:
        'Example: ascend keys add --name ci --key-id ABC123DEFG --issuer-id <uuid> --private-key AuthKey_ABC123DEFG.p8 (or --private-key key.json, fastlane’s key JSON)',
    });
  }
  const key = await resolveCredentials(
    fromFlags
      ? { keyId: flags.keyId, issuerId: flags.issuerId, privateKey: flags.privateKey, individual: flags.individual }
      : { individual: flags.individual },
    {
      env: fromFlags ? {} : { APP_STORE_CONNECT_API_KEY_PATH: jsonPath },
      store: rt.store,
      home: rt.config.userHome,
      cwd: rt.config.cwd,
      readStdin: rt.io.readStdin,
      warn: (m) => rt.out.warn(m),
      noStoredDefault: true,
    },
  );
  protect(rt.out, key.privateKeyPem);
  await rt.store.add(name, key, { makeDefault: Boolean(opts.default) });
  const info = (await rt.store.list()).find((k) => k.name === name);
  if (rt.config.json) rt.out.json({ key: info });
  else
    rt.out.print(
      `stored key "${name}" (Key ID ${key.keyId}${info?.isDefault ? ', default' : ''}); check it with \`ascend keys check ${name}\``,
    );
  return 0;
}

/** `ascend keys list`: every readable key; a damaged file is named on stderr (and in --json), not fatal. */
export async function list(rt: Runtime, _args: ArgsOf<'keysList'>, _opts: OptionsOf<'keysList'>): Promise<number> {
  const { keys, unreadable } = await rt.store.listAll();
  for (const u of unreadable) rt.out.warn(`${u.file} is not a usable key [${u.code}]: ${u.problem}`);
  if (rt.config.json) rt.out.json({ keys, unreadable });
  else if (!keys.length) rt.out.note('no keys stored; add one with `ascend keys add`');
  else
    rt.out.print(
      table(
        ['NAME', 'KEY ID', 'ISSUER ID', 'KIND', 'DEFAULT'],
        keys.map((k) => [k.name, k.keyId, k.issuerId, k.individual ? 'individual' : 'team', k.isDefault ? 'yes' : '']),
      ),
    );
  return 0;
}

export async function remove(
  rt: Runtime,
  [name]: ArgsOf<'keysRemove'>,
  _opts: OptionsOf<'keysRemove'>,
): Promise<number> {
  await rt.store.remove(name);
  if (rt.config.json) rt.out.json({ removed: name });
  else rt.out.print(`removed key "${name}"`);
  return 0;
}

/**
 * `ascend keys check [NAME]`: proves the key works and reports what it can do. Apple does not expose a
 * key's role through the API, so the role is inferred from read-only probes (src/doctor/probe.ts).
 */
export async function check(rt: Runtime, [name]: ArgsOf<'keysCheck'>, _opts: OptionsOf<'keysCheck'>): Promise<number> {
  const runtime = name
    ? createRuntime({ ...rt.config, credentials: { ...rt.config.credentials, key: name } }, rt.io, rt.out, rt.signal)
    : rt;
  const key = await runtime.key();
  const client = await runtime.client();
  const apps = await listApps(client);
  const probe = await probeRole(client, isIndividualKey(key));
  const can = { users: probe.canManageUsers, provisioning: probe.canProvision };
  const role = probe.role;
  const result = {
    keyId: key.keyId,
    issuerId: key.issuerId ?? null,
    kind: isIndividualKey(key) ? 'individual' : 'team',
    source: key.sources.privateKey,
    valid: true,
    role,
    roleInferred: true,
    canManageUsers: can.users,
    canManageSigning: can.provisioning,
    apps: apps.map((a) => ({ id: a.id, bundleId: a.attributes?.bundleId, name: a.attributes?.name })),
    rateLimit: client.rateLimit.budget,
  };
  if (rt.config.json) rt.out.json(result);
  else {
    rt.out.print(
      [
        `key ${key.keyId} (${result.kind}) is accepted by App Store Connect`,
        `role: ${role} (inferred: users ${can.users ? 'readable' : 'not readable'}, signing ${can.provisioning ? 'allowed' : 'not allowed'})`,
        `apps visible: ${apps.length}${apps.length ? ` — ${apps.map((a) => a.attributes?.bundleId).join(', ')}` : ''}`,
        result.rateLimit.remaining !== undefined
          ? `requests left this hour: ${result.rateLimit.remaining}/${result.rateLimit.limit}`
          : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
  }
  return 0;
}
