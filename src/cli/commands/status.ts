import { Command } from 'commander';
import type { Config } from '../../config/config.js';
import { createDatabase, databaseConfigFor } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import type { SendCaps } from '../../db/send-budget.js';
import { readEngineStatus, type EngineStatus } from '../../db/status-store.js';
import { GymError } from '../../errors.js';

/**
 * When the messages due now will all be out: at the configured caps (per second, per minute)
 * or the rate of the last five minutes when that is slower; a wave over the rolling day's quota
 * finishes days later. Unknown when nothing is capped and nothing went out lately.
 */
export function expectedFinish(
  status: EngineStatus,
  caps: SendCaps,
): { readonly at: Date | undefined; readonly basis: string } {
  const waiting = status.queue.dueNow;
  if (waiting === 0) return { at: status.at, basis: 'nothing is waiting' };
  const capped = Math.min(
    caps.perSecond ?? Infinity,
    caps.perMinute === undefined ? Infinity : caps.perMinute / 60,
  );
  const observed = status.sent.recentPerSecond;
  const rate = observed > 0 ? Math.min(observed, capped) : capped;
  if (!Number.isFinite(rate) || rate <= 0) {
    return {
      at: undefined,
      basis: 'unknown: nothing went out in the last 5 minutes (is a gym run worker up?)',
    };
  }
  const basis =
    rate === capped
      ? caps.perMinute !== undefined && caps.perMinute / 60 === capped
        ? `at SMTP_MAX_PER_MINUTE=${caps.perMinute}`
        : `at SMTP_MAX_PER_SECOND=${caps.perSecond}`
      : `at the last 5 minutes' ${rate.toFixed(2)} messages a second`;
  const leftToday =
    caps.perDay === undefined ? Infinity : Math.max(0, caps.perDay - status.sent.last24h);
  if (waiting > leftToday && caps.perDay !== undefined) {
    const days = Math.ceil((waiting - leftToday) / caps.perDay);
    const lastChunk = (waiting - leftToday) % caps.perDay || caps.perDay;
    return {
      at: new Date(
        status.at.getTime() + days * 24 * 3600_000 + Math.ceil((lastChunk / rate) * 1000),
      ),
      basis: `${basis}; over SMTP_MAX_PER_DAY=${caps.perDay}: ${leftToday} now, the rest over ${days} more day${days === 1 ? '' : 's'}`,
    };
  }
  return { at: new Date(status.at.getTime() + Math.ceil((waiting / rate) * 1000)), basis };
}

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
        const finish = expectedFinish(status, {
          perSecond: config.smtpMaxPerSecond,
          perMinute: config.smtpMaxPerMinute,
          perDay: config.smtpMaxPerDay,
        });
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
