import { Command } from 'commander';
import type { Config } from '../../config/config.js';
import { createDatabase, databaseConfigFor } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { readEngineStatus, type EngineStatus } from '../../db/status-store.js';
import { GymError } from '../../errors.js';

/**
 * When the messages due now will all be out: at the configured cap when there is one, else at
 * the rate of the last five minutes; unknown when nothing is capped and nothing went out lately.
 */
export function expectedFinish(
  status: EngineStatus,
  capPerSecond: number | undefined,
): { readonly at: Date | undefined; readonly basis: string } {
  const waiting = status.queue.dueNow;
  if (waiting === 0) return { at: status.at, basis: 'nothing is waiting' };
  const observed = status.sent.recentPerSecond;
  const rate =
    capPerSecond === undefined
      ? observed
      : observed > 0
        ? Math.min(observed, capPerSecond)
        : capPerSecond;
  if (rate <= 0) {
    return {
      at: undefined,
      basis: 'unknown: nothing went out in the last 5 minutes (is a gym run worker up?)',
    };
  }
  const basis =
    capPerSecond !== undefined && rate === capPerSecond
      ? `at SMTP_MAX_PER_SECOND=${capPerSecond}`
      : `at the last 5 minutes' ${rate.toFixed(2)} messages a second`;
  return { at: new Date(status.at.getTime() + Math.ceil((waiting / rate) * 1000)), basis };
}

/** `gym status`: the queue, what went out, the mailbox, and when the wave will be out. */
export function statusCommand(getConfig: () => Config): Command {
  return new Command('status')
    .description(
      'show the outbox queue (due now, in the next 24 h, retrying with their errors, failed this\n' +
        'week), what went out in the last minute and day, the mailbox cursor and the last reply\n' +
        'read, and when the messages due now will all be out',
    )
    .option('--json', 'print one JSON object')
    .option('--clock <iso>', 'as of this instant (as gym run --clock)')
    .action(async (options: { json?: boolean; clock?: string }) => {
      const config = getConfig();
      const now = options.clock === undefined ? new Date() : new Date(options.clock);
      if (Number.isNaN(now.getTime())) {
        throw new GymError(
          'USAGE',
          `--clock ${options.clock}: expected an ISO date and time, such as 2027-01-04T09:00:00Z`,
        );
      }
      const database = await createDatabase(databaseConfigFor(config));
      try {
        await migrateToLatest(database.db);
        const status = await readEngineStatus(database.db, now);
        const finish = expectedFinish(status, config.smtpMaxPerSecond);
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ ...status, expectedFinish: { at: finish.at ?? null, basis: finish.basis } })}\n`,
          );
          return;
        }
        const lines = [
          `as of ${status.at.toISOString()} (${database.location})`,
          `queue     ${status.queue.dueNow} due now (${status.queue.claimed} held by a worker), ${status.queue.dueNext24h} in the next 24 h`,
          `retrying  ${status.queue.retrying}${reasonsOf(status.queue.retryReasons)}`,
          `failed    ${status.queue.failedLast7Days} in the last 7 days${reasonsOf(status.queue.failedReasons)}`,
          `sent      ${status.sent.lastMinute} in the last minute, ${status.sent.last24h} in the last 24 h${config.smtpMaxPerSecond === undefined ? '' : ` (cap: ${config.smtpMaxPerSecond} a second)`}`,
          `finish    ${finish.at === undefined ? '' : `${finish.at.toISOString()}, `}${finish.basis}`,
          ...(status.mailboxes.length === 0
            ? ['mailbox   no reply read yet']
            : status.mailboxes.map(
                (m) =>
                  `mailbox   ${m.mailbox}: UID ${m.lastUid} (UIDVALIDITY ${m.uidValidity}) at ${m.updatedAt.toISOString()}`,
              )),
          `replies   last read ${status.replies.lastReadAt?.toISOString() ?? 'never'}; ${status.replies.waitingForYou} held for you (gym inbox)`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await database.close();
      }
    });
}

function reasonsOf(reasons: readonly { reason: string; rows: number }[]): string {
  if (reasons.length === 0) return '';
  return reasons.map((r) => `\n            ${r.rows} × ${r.reason}`).join('');
}
