import { Command } from 'commander';
import type { Config } from '../../config/config.js';
import { GymError, messageOf } from '../../errors.js';
import { runDoctor, type CheckResult } from '../doctor.js';

const marks = { ok: '✓', warn: '!', fail: '✗' } as const;

/** `gym doctor`: checks every connection a worker needs, one line each; exit 1 if any fails. */
export function doctorCommand(getConfig: () => Config): Command {
  return new Command('doctor')
    .description(
      'check the configuration, the database and its migrations, the SMTP relay and the IMAP\n' +
        'mailbox (connect, TLS, sign-in, OAuth2 token), DKIM and the addresses; one line each, with\n' +
        'what to do. Exit 1 when a check fails',
    )
    .option('--json', 'print one JSON object instead of lines')
    .option(
      '--round-trip',
      'also send a message to GYM_REPLY_ADDRESS and wait to read it back from the mailbox',
    )
    .option('--timeout <seconds>', 'how long the round trip waits', '120')
    .action(async (options: { json?: boolean; roundTrip?: boolean; timeout: string }) => {
      const print = (result: CheckResult) => {
        if (options.json) return;
        process.stdout.write(
          `${marks[result.status]} ${result.check.padEnd(14)} ${result.detail}\n`,
        );
        if (result.fix !== undefined) process.stdout.write(`  ${' '.repeat(14)} → ${result.fix}\n`);
      };
      let results: CheckResult[];
      try {
        const config = getConfig();
        results = await runDoctor(config, {
          roundTrip: options.roundTrip === true,
          roundTripTimeoutMs: Number(options.timeout) * 1000,
          onResult: print,
        });
      } catch (error) {
        if (!(error instanceof GymError && error.isUserError)) throw error;
        // A configuration that does not load is the first check, failed.
        const result: CheckResult = {
          check: 'configuration',
          status: 'fail',
          detail: messageOf(error),
          fix: 'gym config shows what is in effect',
        };
        print(result);
        results = [result];
      }
      const failed = results.filter((r) => r.status === 'fail');
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ok: failed.length === 0, checks: results })}\n`);
      }
      if (failed.length > 0) {
        throw new GymError(
          'CONFIG_INVALID',
          `doctor: ${failed.length} check${failed.length === 1 ? '' : 's'} failed (${failed.map((r) => r.check).join(', ')})`,
        );
      }
    });
}
