import { Command, Option } from '@commander-js/extra-typings';
import { deployCommand, uploadCommand } from './commands/release-flags.js';

/**
 * Every command, its arguments and options, and nothing else: no command code loads from here, so `--help`
 * stays fast. The command modules take their option types from this tree (`OptionsOf<'buildsList'>`), so
 * what commander parses is what the code receives, with no re-casting.
 */
export function defineCommands() {
  const program = new Command()
    .name('ascend')
    .description('Ship app builds to App Store Connect with an API key, from any OS.')
    // `ascend --version` is answered before any code loads (bin/ascend, main); it is not a program option
    // because subcommands use `--version` for the app's version string.
    .addHelpText(
      'after',
      [
        '',
        'ascend --version prints the version.',
        'Environment: ASC_API_URL (like --api-url), ASC_KEY_ID, ASC_ISSUER_ID, ASC_PRIVATE_KEY_PATH (or',
        'ASC_PRIVATE_KEY, ASC_PRIVATE_KEY_B64), APP_STORE_CONNECT_API_KEY_PATH (fastlane key JSON), ASCEND_HOME.',
      ].join('\n'),
    )
    .option('--key <name>', 'use a stored key (see `ascend keys list`)')
    .option('--key-id <id>', 'API Key ID (10 characters)')
    .option('--issuer-id <id>', 'Issuer ID of the team (a lower-case UUID)')
    .option(
      '--private-key <value>',
      'the .p8 (or fastlane key JSON): a path, "-" for stdin, @env:VAR or @file:PATH (PEM text works but shows in `ps`)',
    )
    .option('--individual', 'the key is an individual key (no Issuer ID)')
    .option('--strict-auth', 'refuse credentials mixed from several sources')
    .option(
      '--api-url <url>',
      'App Store Connect API base URL, e.g. a local simulator (env ASC_API_URL; default https://api.appstoreconnect.apple.com)',
    )
    .option('--json', 'print one JSON document on stdout')
    .option('--verbose', 'log every request (secrets redacted)')
    .option('--quiet', 'print nothing but the result and errors')
    // Subcommand help lists these too: `keys add --help` must show --key-id, --issuer-id and --private-key.
    .configureHelp({ showGlobalOptions: true });

  const demo = program
    .command('demo')
    .description('try ascend against a simulated App Store Connect (no Apple account needed)');

  const apps = program.command('apps').description('apps visible to the key');
  const appsList = apps.command('list').description('list apps');

  const builds = program.command('builds').description('builds of an app');
  const buildsList = builds
    .command('list')
    .description('list builds, newest first')
    .requiredOption('--app <app>', 'bundle ID or Apple ID of the app')
    .option('--version <version>', 'only this version (CFBundleShortVersionString)')
    .option('--limit <n>', 'at most this many builds', '50');
  const buildsNextNumber = builds
    .command('next-number')
    .description('the next free build number for a version (counts builds and uploads in flight)')
    .requiredOption('--app <app>', 'bundle ID or Apple ID of the app')
    .requiredOption('--version <version>', 'version (CFBundleShortVersionString)')
    .addOption(
      new Option('--platform <platform>', 'platform')
        .choices(['IOS', 'MAC_OS', 'TV_OS', 'VISION_OS'] as const)
        .default('IOS' as const),
    );
  const buildsWait = builds
    .command('wait')
    .description('wait until Apple has processed a build (exit 0 VALID, 7 INVALID, 8 at the deadline, 130 Ctrl-C)')
    .argument('<build-id>')
    .option('--timeout <duration>', 'deadline, e.g. 30m', '30m');

  const ipa = program.command('ipa').description('read an .ipa without uploading it');
  const ipaInspect = ipa
    .command('inspect')
    .description('facts and preflight checks of an .ipa (or .pkg); exit 6 on a preflight error')
    .argument('<file>')
    .option('--checksums', 'also compute MD5 and SHA-256 (reads the whole file)');

  // Declared beside their option parsing (release-flags.ts), which also loads only commander and core.
  // Added commands do not inherit help settings as `.command()` children do.
  const upload = uploadCommand().configureHelp({ showGlobalOptions: true });
  program.addCommand(upload);
  const deploy = deployCommand().configureHelp({ showGlobalOptions: true });
  program.addCommand(deploy);

  const testflight = program.command('testflight').description('TestFlight distribution');
  const testflightGroups = testflight
    .command('groups')
    .description('list beta groups; add or remove a build')
    .requiredOption('--app <app>', 'bundle ID or Apple ID of the app')
    .option('--add-build <build-id>', 'add this build to the --group groups')
    .option('--remove-build <build-id>', 'remove this build from the --group groups')
    .option('--group <name>', 'beta group (repeatable)', (v: string, prev: string[] = []) => [...prev, v]);

  const webhooks = program
    .command('webhooks')
    .description('App Store Connect webhooks of an app (secrets never shown)');
  const webhooksList = webhooks
    .command('list')
    .description("list an app's webhooks: name, URL, event types, enabled")
    .requiredOption('--app <app>', 'bundle ID or Apple ID of the app');
  const webhooksPing = webhooks
    .command('ping')
    .description('send a test event to a webhook, or to every webhook of --app')
    .argument('[webhook-id]')
    .option('--app <app>', 'ping every webhook of this app (bundle ID or Apple ID)');
  const webhooksDeliveries = webhooks
    .command('deliveries')
    .description("a webhook's recent deliveries: state, HTTP status, event, error")
    .argument('<webhook-id>')
    .addOption(new Option('--state <state>', 'only this state').choices(['SUCCEEDED', 'FAILED', 'PENDING'] as const))
    .option('--limit <n>', 'at most this many deliveries', '50');

  const keys = program.command('keys').description('API keys stored on this machine');
  const keysAdd = keys
    .command('add')
    .description(
      'validate and store an API key (owner-only, under $ASCEND_HOME): --key-id, --issuer-id and --private-key ' +
        'AuthKey.p8, or --private-key key.json (fastlane key JSON) alone, or APP_STORE_CONNECT_API_KEY_PATH',
    )
    .requiredOption('--name <name>', 'a name for the key')
    .option('--default', 'make it the default key');
  const keysList = keys.command('list').description('list stored keys (never their secret)');
  const keysRemove = keys.command('remove').description('remove a stored key').argument('<name>');
  const keysCheck = keys
    .command('check')
    .description('check a key against App Store Connect: role and visible apps')
    .argument('[name]');

  const signing = program.command('signing').description('distribution certificate, key and App Store profile');
  const signingEnsure = signing
    .command('ensure')
    .description('reuse or make the bundle ID, certificate (+ key) and profile; write .p12, profile, summary')
    .requiredOption('--app <bundle-id>', "the app's exact bundle ID")
    .addOption(new Option('--type <type>', 'profile type').choices(['app-store'] as const).default('app-store'))
    .requiredOption('--out <dir>', 'folder for distribution.p12, the .mobileprovision and signing.json')
    .option('--p12-password-file <file>', 'the .p12 password (file must be owner-only); default: generated')
    .option('--renew-within-days <n>', 'replace what expires within this many days', '30');
  const signingList = signing
    .command('list')
    .description('certificates (and whose keys are held here) and profiles, with expiry');
  const signingRevoke = signing
    .command('revoke')
    .description('revoke a certificate and forget its key')
    .argument('<cert-id>');

  const doctor = program
    .command('doctor')
    .description(
      'what would break a release: key and role, agreements, certificates, profiles, TestFlight builds about to ' +
        'expire, App Store versions stuck in a state (exit 11 when something is broken or expired)',
    )
    .option('--app <app>', 'only this app (bundle ID or Apple ID); default: every app the key sees');

  const sim = program.command('simulator').description('a local App Store Connect for tests and demos');
  const simulatorStart = sim
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
    .option(
      '--webhook-faults <spec>',
      'webhook deliveries: drop=P,duplicate=P,delay=MS[:P],reorder=P (e.g. drop=0.1,delay=5000:0.5)',
    )
    .option('--fault-seed <n>', 'seed for reproducible faults (requests and webhook deliveries)')
    .option('--refuse-checksums', 'answer any sourceFileChecksums at commit with 409 (as Apple was seen doing)')
    .option('--clock <iso>', "the simulator's now for resources (expiry, processing); tokens use the real clock");

  const server = program.command('server').description('the Build System server (HTTP API, queue, workers)');
  const serverStart = server
    .command('start')
    .description('run the server until interrupted; prints its URL and a one-time sign-in link')
    .option('--port <port>', 'port (0 = any free port)', '8080')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'data folder: SQLite database, master key, uploads', '.ascend')
    .option('--database-url <url>', 'PostgreSQL (postgres://USER@HOST/DB); SQLite under --data without it')
    .option('--workers <n>', 'deploys run at once in this process', '2')
    .option('--run-builds', 'run build steps in this process too (a build runs as the server user: trusted teams only)')
    .option('--labels <list>', 'labels of this process for build steps, comma-separated, besides its platform')
    .option('--public-url <url>', 'the URL people, links and Apple webhooks use (https makes cookies Secure)')
    .option('--max-artifact-size <bytes>', 'largest build upload accepted', String(4 * 1024 ** 3))
    .option('--sandbox', 'an in-process simulated App Store Connect with a sample team, key and .ipa')
    .option('--write-admin-token <file>', "write an API token of the first team's owner (0600)")
    .option('--allow-private-notify-targets', 'let notification targets be http and private/loopback addresses')
    .option('--write-worker-token <file>', 'write a new worker token for `ascend worker` (0600)');
  const serverRotateMasterKey = server
    .command('rotate-master-key')
    .description('re-wrap every stored secret under a new master key while servers keep running')
    .option('--data <dir>', 'data folder of the server: master key files, SQLite database', '.ascend')
    .option('--database-url <url>', 'PostgreSQL (postgres://USER@HOST/DB); SQLite under --data without it')
    .option('--new-key-file <file>', 'the new key (base64, 0600); without it one is made as <data>/master.key.next')
    .option('--batch-size <n>', 'secrets re-wrapped per batch', '100');
  const serverWorkerToken = server
    .command('worker-token')
    .description('make a worker token for `ascend worker` (printed once), or list or revoke them')
    .option('--data <dir>', 'data folder of the server: SQLite database', '.ascend')
    .option('--database-url <url>', 'PostgreSQL (postgres://USER@HOST/DB); SQLite under --data without it')
    .option('--name <name>', 'what the token is for, e.g. the machine', 'worker')
    .option('--list', 'list worker tokens (never the tokens themselves)')
    .option('--revoke <id>', 'revoke the worker token with this id');
  const worker = program
    .command('worker')
    .description('run deploy and build jobs from a server’s queue on this machine (the master key stays on the server)')
    .requiredOption('--database-url <url>', "the server's PostgreSQL (postgres://USER@HOST/DB, or @env:VAR)")
    .requiredOption('--server <url>', 'the server, e.g. http://10.0.0.5:8080')
    .requiredOption('--token <token>', 'a worker token (`ascend server worker-token`); @env:VAR reads a variable')
    .option('--labels <list>', 'what this machine offers, comma-separated, e.g. macos,xcode-16', '')
    .option('--concurrency <n>', 'jobs run at once', '1')
    .option('--lease-seconds <n>', 'how long a job stays claimed without a heartbeat', '60')
    .option('--build-dir <dir>', 'where build steps get their fresh working folders (default: the temp folder)');
  const push = deployCommand()
    .name('push')
    .description('hand a build to an ascend server and start its deploy (the deploy flags apply)')
    .requiredOption('--server <url>', 'the server, e.g. http://127.0.0.1:8080')
    .requiredOption('--token <token>', 'an API token (Authorization: Bearer); @env:VAR reads it from a variable')
    .option('--follow', 'follow the deploy to its end, with the same progress and exit codes as `ascend deploy`')
    .configureHelp({ showGlobalOptions: true });
  program.addCommand(push);

  return {
    program,
    serverStart,
    serverRotateMasterKey,
    serverWorkerToken,
    worker,
    push,
    demo,
    appsList,
    buildsList,
    buildsNextNumber,
    buildsWait,
    ipaInspect,
    upload,
    deploy,
    testflightGroups,
    webhooksList,
    webhooksPing,
    webhooksDeliveries,
    keysAdd,
    keysList,
    keysRemove,
    keysCheck,
    signingEnsure,
    signingList,
    signingRevoke,
    simulatorStart,
    doctor,
  };
}

export type Commands = ReturnType<typeof defineCommands>;
export type CommandName = Exclude<keyof Commands, 'program'>;
/** The options of a command as commander parsed them (defaults applied, choices narrowed). */
export type OptionsOf<K extends CommandName> = ReturnType<Commands[K]['opts']>;
/** The positional arguments of a command. */
export type ArgsOf<K extends CommandName> = Commands[K]['processedArgs'];
