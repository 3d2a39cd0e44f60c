import { Command } from 'commander';
import type { Config } from '../../config/config.js';
import { createDatabase, databaseConfigFor } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { sendCapsOf } from '../../db/send-budget.js';
import { lastRetention } from '../../db/retention.js';
import { readEngineStatus } from '../../db/status-store.js';
import { GymError } from '../../errors.js';
import { expectedFinish } from '../../report/expected-finish.js';

/** `gym status`: the queue, what went out, the mailbox, and when the wave will be out. */
export function statusCommand(getConfig: () => Config): Command {
  return new Command('status')
    .description(
      'show the outbox queue (due now, in the next 24 h, retrying with their errors, failed this\n' +
        "week), what went out in the last minute and day, each worker's last tick, the mailbox\n" +
        'cursor and the last reply read, and when the messages due now will all be out',
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
        const finish = expectedFinish(status, sendCapsOf(config));
        const retention = await lastRetention(database.db);
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ ...status, expectedFinish: { at: finish.at ?? null, basis: finish.basis }, retention: retention ?? null })}\n`,
          );
          return;
        }
        const lines = [
          `as of ${status.at.toISOString()} (${database.location})`,
          `queue     ${status.queue.dueNow} due now (${status.queue.claimed} held by a worker), ${status.queue.dueNext24h} in the next 24 h`,
          `retrying  ${status.queue.retrying}${reasonsOf(status.queue.retryReasons)}`,
          `failed    ${status.queue.failedLast7Days} in the last 7 days${reasonsOf(status.queue.failedReasons)}`,
          `sent      ${status.sent.lastMinute} in the last minute, ${status.sent.last24h} in the last 24 h${capsText(config)}`,
          `finish    ${finish.at === undefined ? '' : `${finish.at.toISOString()}, `}${finish.basis}`,
          ...(status.workers.length === 0
            ? ['workers   none has ticked yet (start gym run)']
            : status.workers.map(
                (w) =>
                  `worker    ${w.worker}: last tick ${w.lastTickAt.toISOString()}, sent ${w.sent}${w.error === undefined ? '' : `; failed: ${w.error}`}`,
              )),
          ...(status.mailboxes.length === 0
            ? ['mailbox   no reply read yet']
            : status.mailboxes.map(
                (m) =>
                  `mailbox   ${m.mailbox}: UID ${m.lastUid} (UIDVALIDITY ${m.uidValidity}) at ${m.updatedAt.toISOString()}`,
              )),
          `replies   last read ${status.replies.lastReadAt?.toISOString() ?? 'never'}; ${status.replies.waitingForYou} held for you (gym inbox)`,
          retention === undefined
            ? `retention raw mail kept ${config.retainRawDays} days; not run yet (gym run does it daily)`
            : `retention ${retention.ranAt}: cleared ${retention.rawInboundCleared} raw replies, ${retention.outboxFilesRemoved} outbox and ${retention.inboxFilesRemoved} inbox files older than ${retention.retainDays} days (before ${retention.cutoff})`,
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

function capsText(config: Config): string {
  const caps = [
    config.smtpMaxPerSecond === undefined ? undefined : `${config.smtpMaxPerSecond} a second`,
    config.smtpMaxPerMinute === undefined ? undefined : `${config.smtpMaxPerMinute} a minute`,
    config.smtpMaxPerDay === undefined ? undefined : `${config.smtpMaxPerDay} a day`,
  ].filter((c) => c !== undefined);
  return caps.length === 0 ? '' : ` (caps: ${caps.join(', ')})`;
}
