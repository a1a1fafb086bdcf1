import { readFileSync } from 'node:fs';
import type { Command, CommandUnknownOpts, OptionValues } from '@commander-js/extra-typings';
import { loadConfig, type Surroundings } from '../config/index.js';
import { reportError } from './exit.js';
import { onInterrupt, untilInterrupted } from './interrupt.js';
import { createOutput, type Io, processIo } from './io.js';
import { createRuntime, type Runtime } from './runtime.js';
import { defineCommands } from './spec.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

type Run<A, O> = (rt: Runtime, args: A, opts: O) => Promise<number | undefined>;

/** Commands load their code only when they run, so `ascend --version` costs little more than Node itself. */
const lazy =
  <A, O>(load: () => Promise<{ run: Run<A, O> }>): Run<A, O> =>
  async (rt, args, opts) =>
    (await load()).run(rt, args, opts);

export function buildProgram(io: Io, exit: { code: number }, surroundings: () => Surroundings): Command {
  const c = defineCommands();
  const program = c.program;
  // Subcommands copy these settings only when created, and the tree is built first: apply them to every one.
  const configure = (cmd: CommandUnknownOpts): void => {
    cmd
      .showHelpAfterError(false)
      // commander's own error text is dropped: reportError prints the one line with its code and fix.
      .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s), outputError: () => {} })
      .exitOverride();
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);

  const wire = <A extends unknown[], O extends OptionValues, G extends OptionValues>(
    cmd: Command<A, O, G>,
    run: Run<A, O>,
  ): void => {
    cmd.action(async () => {
      const globals = cmd.optsWithGlobals();
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
      const interrupt = onInterrupt(io === processIo);
      try {
        const rt = createRuntime(config, out.io, out, interrupt.signal);
        exit.code = (await untilInterrupted(run(rt, cmd.processedArgs, cmd.opts()), interrupt.signal)) ?? 0;
      } catch (err) {
        exit.code = reportError(err, out, { json: config.json, verbose: config.verbose, stderr: io.stderr });
      } finally {
        interrupt.dispose();
      }
      // Work that ignored the interruption must not keep the process alive after the report.
      if (interrupt.signal.aborted && io === processIo) process.exit(exit.code);
    });
  };

  wire(
    c.demo,
    lazy(() => import('./commands/demo.js')),
  );
  wire(
    c.serverStart,
    lazy(() => import('./commands/server.js')),
  );
  wire(
    c.serverRotateMasterKey,
    lazy(() => import('./commands/server-rotate-master-key.js')),
  );
  wire(
    c.push,
    lazy(() => import('./commands/push.js')),
  );
  wire(
    c.appsList,
    lazy(() => import('./commands/apps.js')),
  );
  wire(
    c.buildsList,
    lazy(() => import('./commands/builds-list.js')),
  );
  wire(
    c.buildsNextNumber,
    lazy(() => import('./commands/builds-next-number.js')),
  );
  wire(
    c.ipaInspect,
    lazy(() => import('./commands/ipa-inspect.js')),
  );
  wire(
    c.upload,
    lazy(() => import('./commands/upload.js')),
  );
  wire(
    c.deploy,
    lazy(() => import('./commands/deploy.js')),
  );
  wire(
    c.buildsWait,
    lazy(() => import('./commands/builds-wait.js')),
  );
  wire(
    c.testflightGroups,
    lazy(() => import('./commands/testflight-groups.js')),
  );
  wire(
    c.webhooksList,
    lazy(() => import('./commands/webhooks.js').then((m) => ({ run: m.list }))),
  );
  wire(
    c.webhooksPing,
    lazy(() => import('./commands/webhooks.js').then((m) => ({ run: m.ping }))),
  );
  wire(
    c.webhooksDeliveries,
    lazy(() => import('./commands/webhooks.js').then((m) => ({ run: m.deliveries }))),
  );
  wire(
    c.keysAdd,
    lazy(() => import('./commands/keys.js').then((m) => ({ run: m.add }))),
  );
  wire(
    c.keysList,
    lazy(() => import('./commands/keys.js').then((m) => ({ run: m.list }))),
  );
  wire(
    c.keysRemove,
    lazy(() => import('./commands/keys.js').then((m) => ({ run: m.remove }))),
  );
  wire(
    c.keysCheck,
    lazy(() => import('./commands/keys.js').then((m) => ({ run: m.check }))),
  );
  wire(
    c.signingEnsure,
    lazy(() => import('./commands/signing.js').then((m) => ({ run: m.ensure }))),
  );
  wire(
    c.signingList,
    lazy(() => import('./commands/signing.js').then((m) => ({ run: m.list }))),
  );
  wire(
    c.signingRevoke,
    lazy(() => import('./commands/signing.js').then((m) => ({ run: m.revoke }))),
  );
  wire(
    c.simulatorStart,
    lazy(() => import('./commands/simulator.js')),
  );
  wire(
    c.doctor,
    lazy(() => import('./commands/doctor.js')),
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
