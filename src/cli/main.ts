import { Command, CommanderError } from 'commander';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import { GymError, messageOf } from '../errors.js';
const config = () => loadConfig();

/**
 * Every command, by name, in the order `gym --help` lists them. Each is imported only when it is
 * needed: `gym run` loads what a worker needs and nothing of the preview server, the report or
 * the simulator (all of them together are about 100 MB of a worker's memory, #17).
 */
const commands: Readonly<Record<string, () => Promise<Command>>> = {
  demo: async () => (await import('./commands/demo.js')).demoCommand(),
  validate: async () => (await import('./commands/validate.js')).validateCommand(),
  preview: async () => (await import('./commands/preview.js')).previewCommand(config),
  render: async () => (await import('./commands/render.js')).renderCommand(config),
  simulate: async () => (await import('./commands/simulate.js')).simulateCommand(),
  enrol: async () => (await import('./commands/enrol.js')).enrolCommand(config),
  run: async () => (await import('./commands/run.js')).runCommand(config),
  inbox: async () => (await import('./commands/inbox.js')).inboxCommand(config),
  learner: async () => (await import('./commands/learner.js')).learnerCommand(config),
  manager: async () => (await import('./commands/manager.js')).managerCommand(config),
  report: async () => (await import('./commands/report.js')).reportCommand(config),
  reply: async () => (await import('./commands/reply.js')).replyCommand(),
  migrate: async () => (await import('./commands/migrate.js')).migrateCommand(config),
  config: async () => (await import('./commands/config.js')).configCommand(config),
  doctor: async () => (await import('./commands/doctor.js')).doctorCommand(config),
  status: async () => (await import('./commands/status.js')).statusCommand(config),
};

/**
 * The `gym` command line and the composition root: configuration is read here, once, and each
 * command receives what it needs. With `only` (the command named on the command line), just
 * that command is loaded; otherwise (help, a typo) all of them are, so help lists them all.
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('gym')
    .description(
      'Digital Gym: a 12-week practical learning programme that runs inside people’s inboxes.\n' +
        'With no configuration it uses an embedded database and Maildir folders under .gym/.',
    )
    .version(version(), '-V, --version')
    .showHelpAfterError('(run gym --help for the commands)')
    .configureOutput({ outputError: (text, write) => write(text) })
    .exitOverride();

  const names =
    only !== undefined && Object.hasOwn(commands, only) ? [only] : Object.keys(commands);
  for (const command of await Promise.all(names.map((name) => commands[name]!())))
    program.addCommand(command);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

/** The command named on the command line (`gym run --once` → `run`), if any. */
function commandOf(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((arg) => !arg.startsWith('-'));
}

/** Runs the CLI and exits: 0 ok, 1 a user error (one line), 2 an internal error. */
export async function run(argv: readonly string[]): Promise<void> {
  process.exitCode = await runCli(argv);
}

async function runCli(argv: readonly string[]): Promise<number> {
  try {
    await (await buildProgram(commandOf(argv))).parseAsync(argv);
    return 0;
  } catch (error) {
    const { exitCode, report } = failureReport(error);
    if (report) process.stderr.write(report);
    return exitCode;
  }
}

/**
 * What the user sees when a command fails: one line and exit 1 for what they can fix; the
 * stack and exit 2 for our bugs.
 */
export function failureReport(error: unknown): { exitCode: 0 | 1 | 2; report: string } {
  if (error instanceof CommanderError) {
    // Commander has printed the help, the version or the usage error already.
    return { exitCode: error.exitCode === 0 ? 0 : 1, report: '' };
  }
  if (error instanceof GymError && error.isUserError) {
    return { exitCode: 1, report: `gym: ${error.message}\n` };
  }
  const stack = error instanceof Error && error.stack ? `${error.stack}\n` : '';
  return {
    exitCode: 2,
    report: `gym: internal error (please report it, with the lines below): ${messageOf(error)}\n${stack}`,
  };
}

function version(): string {
  // Two levels up from both src/cli/ and dist/cli/.
  const packageJson = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(packageJson) as { version: string }).version;
}

// Run when executed directly (tsx src/cli/main.ts), not when imported by the bin or a test.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await run(process.argv);
}
