import { readFileSync } from 'node:fs';
import { Command, Option } from '@commander-js/extra-typings';
import { type GlobalOptions, loadConfig, type Surroundings } from '../config/index.js';
import { reportError } from './exit.js';
import { createOutput, type Io, processIo } from './io.js';
import { createRuntime, type Runtime } from './runtime.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

type Action = (rt: Runtime, args: unknown[], opts: Record<string, unknown>) => Promise<number | undefined>;

/** Commands load their code only when they run, so `ascend --version` costs little more than Node itself. */
const lazy =
  (load: () => Promise<{ run: Action }>) =>
  async (rt: Runtime, args: unknown[], opts: Record<string, unknown>): Promise<number | undefined> =>
    (await load()).run(rt, args, opts);

export function buildProgram(io: Io, exit: { code: number }, surroundings: () => Surroundings): Command {
  const program = new Command()
    .name('ascend')
    .description('Ship app builds to App Store Connect with an API key, from any OS.')
    // `ascend --version` is answered before any code loads (bin/ascend, main); it is not a program option
    // because subcommands use `--version` for the app's version string.
    .addHelpText('after', '\nascend --version prints the version.')
    .option('--key <name>', 'use a stored key (see `ascend keys list`)')
    .option('--key-id <id>', 'API Key ID (10 characters)')
    .option('--issuer-id <id>', 'Issuer ID of the team')
    .option('--private-key <value>', 'the .p8: a path, "-" for stdin, PEM text, @env:VAR or @file:PATH')
    .option('--individual', 'the key is an individual key (no Issuer ID)')
    .option('--strict-auth', 'refuse credentials mixed from several sources')
    .option('--api-url <url>', 'App Store Connect API base URL (e.g. a local simulator)')
    .option('--json', 'print one JSON document on stdout')
    .option('--verbose', 'log every request (secrets redacted)')
    .option('--quiet', 'print nothing but the result and errors')
    .showHelpAfterError(false)
    // commander's own error text is dropped: reportError prints the one line with its code and fix.
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s), outputError: () => {} })
    .exitOverride();

  // biome-ignore lint/suspicious/noExplicitAny: commander's typed command generics vary per command.
  const wire = <C extends Command<any, any, any>>(cmd: C, action: Action): C => {
    cmd.exitOverride();
    cmd.action(async (...params: unknown[]) => {
      const command = params.at(-1) as Command;
      const opts = command.opts() as Record<string, unknown>;
      const globals = command.optsWithGlobals() as GlobalOptions;
      let config: ReturnType<typeof loadConfig>;
      try {
        config = loadConfig(globals, surroundings());
      } catch (err) {
        const out = createOutput(io, { verbose: Boolean(globals.verbose), quiet: false });
        exit.code = reportError(err, out, {
          json: Boolean(globals.json),
          verbose: Boolean(globals.verbose),
          stderr: io.stderr,
        });
        return;
      }
      const out = createOutput(io, config);
      try {
        exit.code = (await action(createRuntime(config, io, out), params.slice(0, -2), opts)) ?? 0;
      } catch (err) {
        exit.code = reportError(err, out, { json: config.json, verbose: config.verbose, stderr: io.stderr });
      }
    }) as unknown;
    return cmd;
  };

  wire(
    program.command('demo').description('try ascend against a simulated App Store Connect (no Apple account needed)'),
    lazy(() => import('./commands/demo.js')),
  );

  const apps = program.command('apps').description('apps visible to the key');
  wire(
    apps.command('list').description('list apps'),
    lazy(() => import('./commands/apps.js')),
  );

  const builds = program.command('builds').description('builds of an app');
  wire(
    builds
      .command('list')
      .description('list builds, newest first')
      .requiredOption('--app <app>', 'bundle ID or Apple ID of the app')
      .option('--version <version>', 'only this version (CFBundleShortVersionString)')
      .option('--limit <n>', 'at most this many builds', '50'),
    lazy(() => import('./commands/builds-list.js')),
  );
  wire(
    builds
      .command('next-number')
      .description('the next free build number for a version (counts builds and uploads in flight)')
      .requiredOption('--app <app>', 'bundle ID or Apple ID of the app')
      .requiredOption('--version <version>', 'version (CFBundleShortVersionString)')
      .addOption(
        new Option('--platform <platform>', 'platform').choices(['IOS', 'MAC_OS', 'TV_OS', 'VISION_OS']).default('IOS'),
      ),
    lazy(() => import('./commands/builds-next-number.js')),
  );

  const ipa = program.command('ipa').description('read an .ipa without uploading it');
  wire(
    ipa
      .command('inspect')
      .description('facts and preflight checks of an .ipa (or .pkg); exit 6 on a preflight error')
      .argument('<file>')
      .option('--checksums', 'also compute MD5 and SHA-256 (reads the whole file)'),
    lazy(() => import('./commands/ipa-inspect.js')),
  );

  wire(
    program
      .command('upload')
      .description('check, upload and wait for one build (Build Upload API; resumable)')
      .argument('<file>', '.ipa to upload')
      .option('--concurrency <n>', 'parts sent in parallel', '12')
      .option('--no-wait', 'return once the file is committed, without waiting for processing')
      .option('--timeout <duration>', 'deadline for the whole command, e.g. 30m', '60m'),
    lazy(() => import('./commands/upload.js')),
  );

  wire(
    program
      .command('deploy')
      .description('upload a build and take it to TestFlight groups and, if asked, App Review (idempotent, resumable)')
      .argument('<file>', '.ipa to deploy')
      .option('--testflight', 'distribute in TestFlight (the default)')
      .option('--group <name>', 'beta group to add the build to (repeatable)', (v: string, prev: string[] = []) => [
        ...prev,
        v,
      ])
      .option('--whats-new <text>', '"What to Test" text')
      .option('--whats-new-file <file>', '"What to Test" text from a file')
      .option('--locale <locale>', 'locale of the "What to Test" text', 'en-US')
      .addOption(
        new Option('--encryption <answer>', 'export compliance answer when Info.plist lacks one').choices([
          'exempt',
          'non-exempt',
        ]),
      )
      .option('--beta-review', 'submit for external beta review (automatic for an external group)')
      .option('--app-store', 'create or reuse the App Store version and attach the build')
      .option('--submit-review', 'submit the App Store version for App Review (with --app-store)')
      .option('--release <type>', 'manual | after-approval | scheduled:ISO-DATE', 'after-approval')
      .option('--phased', 'phased release over 7 days')
      .option('--dry-run', 'check everything and print the plan; change nothing')
      .option('--concurrency <n>', 'upload parts sent in parallel', '12')
      .option('--timeout <duration>', 'deadline for the whole deploy, e.g. 90m', '90m'),
    lazy(() => import('./commands/deploy.js')),
  );

  wire(
    builds
      .command('wait')
      .description('wait until Apple has processed a build (exit 0 VALID, 7 INVALID, 8 at the deadline)')
      .argument('<build-id>')
      .option('--timeout <duration>', 'deadline, e.g. 30m', '30m'),
    lazy(() => import('./commands/builds-wait.js')),
  );
  const testflight = program.command('testflight').description('TestFlight distribution');
  wire(
    testflight
      .command('groups')
      .description('list beta groups; add or remove a build')
      .requiredOption('--app <app>', 'bundle ID or Apple ID of the app')
      .option('--add-build <build-id>', 'add this build to the --group groups')
      .option('--remove-build <build-id>', 'remove this build from the --group groups')
      .option('--group <name>', 'beta group (repeatable)', (v: string, prev: string[] = []) => [...prev, v]),
    lazy(() => import('./commands/testflight-groups.js')),
  );

  const keys = program.command('keys').description('API keys stored on this machine');
  wire(
    keys
      .command('add')
      .description('validate and store an API key (owner-only, under $ASCEND_HOME)')
      .requiredOption('--name <name>', 'a name for the key')
      .option('--default', 'make it the default key'),
    lazy(() => import('./commands/keys.js').then((m) => ({ run: m.add }))),
  );
  wire(
    keys.command('list').description('list stored keys (never their secret)'),
    lazy(() => import('./commands/keys.js').then((m) => ({ run: m.list }))),
  );
  wire(
    keys.command('remove').description('remove a stored key').argument('<name>'),
    lazy(() => import('./commands/keys.js').then((m) => ({ run: m.remove }))),
  );
  wire(
    keys
      .command('check')
      .description('check a key against App Store Connect: role and visible apps')
      .argument('[name]'),
    lazy(() => import('./commands/keys.js').then((m) => ({ run: m.check }))),
  );

  const sim = program.command('simulator').description('a local App Store Connect for tests and demos');
  wire(
    sim
      .command('start')
      .description('run the simulator until interrupted')
      .option('--port <port>', 'port (0 = any free port)', '0')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--public-url <url>', 'base URL to advertise in links and upload URLs')
      .option('--seed <file>', 'seed JSON (teams, keys, apps, groups, builds); see docs/SIMULATOR.md')
      .option('--state-file <file>', 'persist state in this file across restarts')
      .option('--write-key <file>', 'write a fresh App Manager key as fastlane JSON')
      .option('--processing-seconds <n>', 'seconds a build upload spends processing', '2')
      .option('--latency <ms>', 'added latency per request', '0')
      .option('--bandwidth <MBps>', 'total upload bandwidth (MB/s)')
      .option('--connection-bandwidth <MBps>', 'upload bandwidth per connection (MB/s)')
      .option('--rate-limit <n>', 'requests per key per rolling hour', '3600')
      .option('--faults <spec>', 'e.g. 5xx=0.05,reset=0.02,429=0.01,drop-response=0.01')
      .option('--fault-seed <n>', 'seed for reproducible faults')
      .option('--refuse-checksums', 'answer any sourceFileChecksums at commit with 409 (as Apple was seen doing)')
      .option('--clock <iso>', "the simulator's now for resources (expiry, processing); tokens use the real clock"),
    lazy(() => import('./commands/simulator.js')),
  );
  return program;
}

const processSurroundings = (): Surroundings => ({
  env: process.env,
  cwd: process.cwd(),
  stdoutIsTTY: Boolean(process.stdout.isTTY),
  stderrIsTTY: Boolean(process.stderr.isTTY),
});

/** Runs the CLI. Tests pass their own io and surroundings; the process passes its streams and environment. */
export async function main(
  argv: string[],
  io: Io = processIo,
  surroundings: () => Surroundings = processSurroundings,
): Promise<number> {
  const exit = { code: 0 };
  if (io === processIo) {
    // A closed pipe (`ascend ... | head`) is not an error worth a stack trace.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(exit.code);
    });
  }
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    io.stdout(`${version()}\n`);
    return 0;
  }
  const program = buildProgram(io, exit, surroundings);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') {
      exit.code = 0;
    } else if (e.code === 'commander.help') {
      // A command group without its subcommand: the help was shown, but the call was incomplete.
      exit.code = 2;
    } else {
      const out = createOutput(io, { verbose: argv.includes('--verbose'), quiet: false });
      exit.code = reportError(err, out, {
        json: argv.includes('--json'),
        verbose: argv.includes('--verbose'),
        stderr: io.stderr,
      });
    }
  }
  if (io === processIo) process.exitCode = exit.code;
  return exit.code;
}
