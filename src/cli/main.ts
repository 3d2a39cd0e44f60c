import { Command, CommanderError } from 'commander';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import { GymError, messageOf } from '../errors.js';
import { configCommand } from './commands/config.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { enrolCommand } from './commands/enrol.js';
import { inboxCommand } from './commands/inbox.js';
import { learnerCommand } from './commands/learner.js';
import { migrateCommand } from './commands/migrate.js';
import { previewCommand } from './commands/preview.js';
import { renderCommand } from './commands/render.js';
import { replyCommand } from './commands/reply.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { simulateCommand } from './commands/simulate.js';
import { statusCommand } from './commands/status.js';
import { validateCommand } from './commands/validate.js';

/**
 * The `gym` command line and the composition root: configuration is read here, once, and each
 * command receives what it needs.
 */
export function buildProgram(): Command {
  const program = new Command('gym')
    .description(
      'Digital Gym: a 12-week practical learning programme that runs inside people’s inboxes.\n' +
        'With no configuration it uses an embedded database and Maildir folders under .gym/.',
    )
    .version(version(), '-V, --version')
    .showHelpAfterError('(run gym --help for the commands)')
    .configureOutput({ outputError: (text, write) => write(text) })
    .exitOverride();

  program.addCommand(demoCommand());
  program.addCommand(validateCommand());
  program.addCommand(previewCommand(() => loadConfig()));
  program.addCommand(renderCommand(() => loadConfig()));
  program.addCommand(simulateCommand());
  program.addCommand(enrolCommand(() => loadConfig()));
  program.addCommand(runCommand(() => loadConfig()));
  program.addCommand(inboxCommand(() => loadConfig()));
  program.addCommand(learnerCommand(() => loadConfig()));
  program.addCommand(reportCommand(() => loadConfig()));
  program.addCommand(replyCommand());
  program.addCommand(migrateCommand(() => loadConfig()));
  program.addCommand(configCommand(() => loadConfig()));
  program.addCommand(doctorCommand(() => loadConfig()));
  program.addCommand(statusCommand(() => loadConfig()));
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

/** Runs the CLI and exits: 0 ok, 1 a user error (one line), 2 an internal error. */
export async function run(argv: readonly string[]): Promise<void> {
  process.exitCode = await runCli(argv);
}

async function runCli(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
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
