import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AscendError } from '../../core/errors.js';
import type { Runtime } from '../runtime.js';
import type { ArgsOf, OptionsOf } from '../spec.js';

function int(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new AscendError('USAGE', `${name} ${v} is not a whole number from ${min} to ${max}`);
  return n;
}

/** The sandbox (DESIGN §3.1): an in-process simulator whose state lives under <data>/sandbox/. */
async function startSandbox(rt: Runtime, dataDir: string) {
  const dir = join(dataDir, 'sandbox');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { createSimulator } = await import('../../../simulator/index.js');
  // Its state file keeps the keys it made, so the vault's sandbox key still works after a restart.
  const sim = createSimulator({
    host: '127.0.0.1',
    port: 0,
    stateFile: join(dir, 'simulator.json'),
    log: rt.config.verbose ? (l) => rt.out.logger.debug(l) : undefined,
  });
  await sim.listen();
  return { sim, dir };
}

/** The sandbox team's key (sealed in the vault), the sample .ipa and the second key for the add-key form. */
async function seedSandbox(
  sandbox: Awaited<ReturnType<typeof startSandbox>>,
  svc: import('../../server/service.js').Service,
  teamId: string,
): Promise<void> {
  const [{ addKey, listKeys }, { buildIpa }, { writeKeyFile }] = await Promise.all([
    import('../../server/store/keys.js'),
    import('../../sample/builder.js'),
    import('../../../simulator/index.js'),
  ]);
  const { store, vault, deps } = svc.storage;
  if ((await listKeys(store, teamId)).length === 0) {
    const k = sandbox.sim.createKey({ role: 'APP_MANAGER' });
    await addKey(store, vault, deps, teamId, {
      name: 'Sandbox App Manager',
      keyId: k.keyId,
      issuerId: k.issuerId ?? null,
      privateKey: k.privateKeyPem,
      role: 'APP_MANAGER',
    });
  }
  const ipa = join(sandbox.dir, 'Sample.ipa');
  if (!existsSync(ipa))
    await buildIpa(ipa, {
      bundleId: 'com.example.sandbox.one',
      version: '1.1.0',
      build: '100',
      appName: 'Sandbox One',
    });
  if (!existsSync(join(sandbox.dir, 'key.json'))) {
    const second = sandbox.sim.createKey({ role: 'APP_MANAGER' });
    writeFileSync(join(sandbox.dir, `AuthKey_${second.keyId}.p8`), second.privateKeyPem, { mode: 0o600 });
    writeKeyFile(join(sandbox.dir, 'key.json'), second);
  }
}

/**
 * `ascend server start` (DESIGN §3.1): storage, API, queue and workers in one process. Prints exactly two
 * lines on stdout, `ascend server: <URL>` and `Sign in: <URL>`, and stops cleanly on Ctrl-C or SIGTERM:
 * no new requests or jobs, running deploy steps reach a safe point (their state is saved), exit 0.
 */
export async function run(rt: Runtime, _args: ArgsOf<'serverStart'>, opts: OptionsOf<'serverStart'>): Promise<number> {
  const port = int(opts.port, '--port', 0, 65535);
  const workers = int(opts.workers, '--workers', 0, 64);
  const maxArtifactBytes = int(opts.maxArtifactSize, '--max-artifact-size', 1024, 2 ** 40);
  const dataDir = resolve(rt.config.cwd, opts.data);
  const { createService } = await import('../../server/service.js');
  const { buildBaseEnv, defaultWorkerLabels } = await import('../../server/worker/build-spec.js');
  const sandbox = opts.sandbox ? await startSandbox(rt, dataDir) : undefined;
  let svc: Awaited<ReturnType<typeof createService>> | undefined;
  try {
    const logFile = createWriteStream(join(dataDir, 'server.log'), { flags: 'a', mode: 0o600 });
    logFile.on('error', () => {}); // a missing data folder is reported by createService below
    svc = await createService({
      dataDir,
      databaseUrl: opts.databaseUrl,
      masterKey: rt.config.env.ASCEND_MASTER_KEY,
      previousMasterKey: rt.config.env.ASCEND_MASTER_KEY_PREVIOUS,
      apiUrl: sandbox ? sandbox.sim.url : rt.config.apiUrl,
      workers,
      publicUrl: opts.publicUrl,
      maxArtifactBytes,
      allowPrivateNotifyTargets: Boolean(opts.allowPrivateNotifyTargets),
      ...(sandbox ? { sandboxDir: sandbox.dir } : {}),
      log: { write: (line) => void logFile.write(line) },
      // Build commands run as this process's user, who can read the data folder: only when asked for.
      workerLabels:
        opts.runBuilds || opts.labels
          ? defaultWorkerLabels(process.platform, (opts.labels ?? '').split(','))
          : undefined,
      buildEnv: buildBaseEnv(rt.config.env),
      // The sandbox's sample .ipa has a profile signed by the sample root, trusted here as `ascend demo` does.
      extraTrustedRoots: sandbox
        ? [(await import('../../sample/builder.js')).SAMPLE_ROOT_SHA256, ...rt.config.extraTrustedRoots]
        : rt.config.extraTrustedRoots,
    });
    const { ensureFirstAdmin } = await import('../../server/accounts/bootstrap.js');
    const first = await ensureFirstAdmin(svc.storage.store, svc.storage.deps, {
      apiToken: Boolean(opts.writeAdminToken),
      ...(sandbox ? { teamName: 'Sandbox Team' } : {}),
    });
    if (sandbox) await seedSandbox(sandbox, svc, first.team.id);
    const listening = await svc.listen(opts.host, port);
    const url = (opts.publicUrl ?? listening).replace(/\/+$/, '');
    if (opts.writeAdminToken && first.apiToken)
      writeFileSync(resolve(rt.config.cwd, opts.writeAdminToken), `${first.apiToken}\n`, { mode: 0o600 });
    if (opts.writeWorkerToken) {
      const { createWorkerToken } = await import('../../server/accounts/worker-tokens.js');
      const made = await createWorkerToken(svc.storage.store, svc.storage.deps, { name: 'server start' });
      writeFileSync(resolve(rt.config.cwd, opts.writeWorkerToken), `${made.token}\n`, { mode: 0o600 });
    }
    rt.out.print(`ascend server: ${url}`);
    rt.out.print(`Sign in: ${url}/sign-in/${first.signInToken}`);
    if (sandbox) rt.out.note(`sandbox: a second App Manager key to try adding is in ${sandbox.dir}/key.json`);
    rt.out.note('press Ctrl-C to stop');
    await new Promise<void>((done) => {
      if (rt.signal.aborted) done();
      else rt.signal.addEventListener('abort', () => done(), { once: true });
    });
    return 0;
  } finally {
    // Stops within the CLI's grace period: running steps are told to stop and their state is saved.
    await svc?.close({ timeoutMs: 4000 });
    await sandbox?.sim.close();
  }
}
