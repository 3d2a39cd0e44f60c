import { Command, Option } from 'commander';
import { DateTime } from 'luxon';
import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../config/config.js';
import { describeSuppression, normaliseAddress } from '../../consent/suppression.js';
import { createDatabase, databaseConfigFor, type GymDatabase } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { suppressByHand } from '../../db/opt-out.js';
import { moveByHand, pauseByHand, resumeByHand, stopByHand } from '../../db/learner-actions.js';
import { loadProgrammeVersions } from './enrol.js';
import { eraseLearner } from '../../db/erase-learner.js';
import { learnerRecord } from '../../db/learner-record.js';
import { liftSuppressions } from '../../db/suppression-store.js';
import { removeMaildirMessages } from '../../mail/maildir-files.js';
import { formatLearnerView, learnerView } from '../../report/learner-view.js';
import type { Sequence } from '../../sequence/schema.js';
import { GymError } from '../../errors.js';

/** Who runs the command, for the record: the OS user, unless `--by` names someone. */
export function operator(by: string | undefined): string {
  if (by !== undefined && by.trim() !== '') return by.trim();
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export function checkedAddress(email: string): string {
  const address = normaliseAddress(email);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address))
    throw new GymError('USAGE', `${JSON.stringify(email)} is not an email address`);
  return address;
}

/**
 * `gym learner suppress|resubscribe`: a trainer records a "no" given outside email, or lifts
 * one when the person asks to come back. Only resubscribe lifts a suppression, and it records
 * who, when and why.
 */
export function learnerCommand(getConfig: () => Config): Command {
  const command = new Command('learner').description(
    'one learner: show them; pause, resume, stop or move their programme as their reply would;\n' +
      'record a no given by hand or lift one; export or erase what is held about them',
  );

  command
    .command('suppress')
    .description(
      'send nothing more to this address: no programme email, invite or acknowledgement\n' +
        '(--scope all, the default), or no more manager digests (--scope digests);\n' +
        'a re-import skips them until gym learner resubscribe',
    )
    .argument('<email>')
    .addOption(
      new Option('--scope <scope>', 'what stops').choices(['all', 'digests']).default('all'),
    )
    .option('--reason <words>', 'why, for the record')
    .option('--by <name>', 'who decided (default: your user name)')
    .action(
      async (
        email: string,
        options: { scope: 'all' | 'digests'; reason?: string; by?: string },
      ) => {
        const address = checkedAddress(email);
        const database = await createDatabase(databaseConfigFor(getConfig()));
        try {
          await migrateToLatest(database.db);
          const result = await database.db.transaction().execute((trx) =>
            suppressByHand(trx, {
              address,
              scope: options.scope,
              reason: options.reason,
              by: operator(options.by),
              now: new Date(),
            }),
          );
          const what = options.scope === 'all' ? 'no more mail' : 'no more manager digests';
          process.stdout.write(
            `${address}: ${what}${result.created ? '' : ' (already suppressed; the earlier record stays)'}` +
              `${result.cancelled > 0 ? `; ${result.cancelled} queued messages cancelled` : ''}\n`,
          );
        } finally {
          await database.close();
        }
      },
    );

  command
    .command('resubscribe')
    .description(
      'lift every suppression of this address (unsubscribe, stopped programme, bounce), when the\n' +
        'person asks to come back; records who, when and why. Re-import the cohort to enrol them',
    )
    .argument('<email>')
    .requiredOption('--reason <words>', 'why, for the record (required)')
    .option('--by <name>', 'who decided (default: your user name)')
    .action(async (email: string, options: { reason: string; by?: string }) => {
      const address = checkedAddress(email);
      if (options.reason.trim() === '')
        throw new GymError('USAGE', '--reason must say why the suppression is lifted');
      const database = await createDatabase(databaseConfigFor(getConfig()));
      try {
        await migrateToLatest(database.db);
        const by = operator(options.by);
        const lifted = await database.db.transaction().execute((trx) =>
          liftSuppressions(trx, {
            address,
            by,
            reason: options.reason.trim(),
            now: new Date(),
            secret: getConfig().secret,
          }),
        );
        if (lifted.length === 0)
          throw new GymError('USAGE', `${address} has no suppression to lift; nothing changed`);
        for (const row of lifted)
          process.stdout.write(`${address}: lifted "${describeSuppression(row)}" (by ${by})\n`);
        process.stdout.write('re-import their cohort to enrol them again\n');
      } finally {
        await database.close();
      }
    });

  command
    .command('pause')
    .description(
      'pause their programme, exactly as their reply "pause for 2 weeks" or "pause until 3 Jan"\n' +
        'would: the plan moves by whole weeks and invites already in their calendar are updated',
    )
    .argument('<email>')
    .option('--weeks <n>', 'for this many weeks (default 1)')
    .option('--until <date>', 'until this day (YYYY-MM-DD) on the learner’s clock')
    .option('--by <name>', 'who decided (default: your user name)')
    .action(async (email: string, options: { weeks?: string; until?: string; by?: string }) => {
      const weeks = options.weeks === undefined ? undefined : Number(options.weeks);
      if (weeks !== undefined && (!Number.isInteger(weeks) || weeks < 1 || weeks > 52))
        throw new GymError(
          'USAGE',
          `--weeks ${options.weeks}: expected a whole number of weeks, 1 to 52`,
        );
      if (options.until !== undefined && !DateTime.fromISO(options.until).isValid)
        throw new GymError('USAGE', `--until ${options.until}: expected a day such as 2027-02-01`);
      await withDatabase(getConfig, async (db) => {
        const done = await pauseByHand(
          db,
          checkedAddress(email),
          { weeks, until: options.until },
          { by: operator(options.by), now: new Date() },
        );
        const until = DateTime.fromJSDate(done.resumeAt, { zone: done.open.zone }).toFormat(
          'cccc d LLLL yyyy',
          { locale: 'en-GB' },
        );
        process.stdout.write(
          `${done.open.email}: paused until ${until} (the plan moved ${done.weeks} weeks; invites updated)\n`,
        );
      });
    });

  command
    .command('resume')
    .description('end their pause now, exactly as their reply "resume" would')
    .argument('<email>')
    .option('--by <name>', 'who decided (default: your user name)')
    .action(async (email: string, options: { by?: string }) => {
      await withDatabase(getConfig, async (db) => {
        const done = await resumeByHand(db, checkedAddress(email), {
          by: operator(options.by),
          now: new Date(),
        });
        process.stdout.write(
          done.weeks === 0
            ? `${done.open.email}: was not paused; nothing moved\n`
            : `${done.open.email}: resumed (${-done.weeks} weeks earlier; invites updated)\n`,
        );
      });
    });

  command
    .command('stop')
    .description(
      'end their programme, exactly as their reply "stop" would: what was still to be sent is\n' +
        'cancelled, invites are withdrawn, and a re-import never starts this programme for them again',
    )
    .argument('<email>')
    .option('--reason <words>', 'why, for the record')
    .option('--by <name>', 'who decided (default: your user name)')
    .action(async (email: string, options: { reason?: string; by?: string }) => {
      await withDatabase(getConfig, async (db) => {
        const done = await stopByHand(db, checkedAddress(email), options.reason, {
          by: operator(options.by),
          now: new Date(),
        });
        process.stdout.write(`${done.open.email}: stopped ${done.open.programmeId}\n`);
      });
    });

  command
    .command('move')
    .description(
      'move them to another programme: the current one ends as a stop does (queued mail\n' +
        'cancelled, invites withdrawn) without recording a no; the new one carries on from the\n' +
        'week after the last one sent, next Monday (or from week 1 on the same start date when\n' +
        'nothing was sent yet). --week N starts from week N instead',
    )
    .argument('<email>')
    .requiredOption('--to <programme>', 'the programme id to move them to')
    .option('--week <n>', 'start the new programme at this week, next Monday')
    .option('--reason <words>', 'why, for the record')
    .option('--by <name>', 'who decided (default: your user name)')
    .option('--dir <dir>', 'where the programme files are', 'sequences')
    .action(
      async (
        email: string,
        options: { to: string; week?: string; reason?: string; by?: string; dir: string },
      ) => {
        const week = options.week === undefined ? undefined : Number(options.week);
        if (week !== undefined && (!Number.isInteger(week) || week < 1))
          throw new GymError('USAGE', `--week ${options.week}: expected a week number, 1 or more`);
        const programmes = loadProgrammeVersions(options.dir);
        const target = programmes.find((p) => p.sequence.id === options.to);
        if (target === undefined)
          throw new GymError(
            'USAGE',
            `--to ${options.to}: no such programme in ${options.dir}; expected one of ${programmes.map((p) => p.sequence.id).join(', ')}`,
          );
        await withDatabase(getConfig, async (db, config) => {
          const moved = await moveByHand(
            db,
            checkedAddress(email),
            target,
            { week, reason: options.reason, secret: config.secret },
            { by: operator(options.by), now: new Date() },
          );
          process.stdout.write(
            `${checkedAddress(email)}: moved from ${moved.from} to ${moved.to}, from week ${moved.week} ` +
              `(week 1 counted from ${moved.startsOn}; ${moved.deliveries} messages planned)\n`,
          );
        });
      },
    );

  command
    .command('show')
    .description(
      'one learner: profile, programme and why it was chosen, the timeline (sent, not sent and\n' +
        'why, due next, waiting on a condition), their replies with how each was read, and flags',
    )
    .argument('<email>')
    .option('--json', 'print one JSON object')
    .action(async (email: string, options: { json?: boolean }) => {
      await withDatabase(getConfig, async (db, config) => {
        const record = await learnerRecord(db, checkedAddress(email), config.secret);
        const versionIds = [
          ...new Set(record.enrolments.map((e) => Number(e.sequence_version_id))),
        ];
        const definitions = new Map<number, Sequence>();
        if (versionIds.length > 0) {
          const rows = await db
            .selectFrom('sequence_versions')
            .select(['id', 'definition'])
            .where('id', 'in', versionIds)
            .execute();
          for (const row of rows) definitions.set(row.id, row.definition as Sequence);
        }
        const view = learnerView(record, definitions);
        if (options.json) process.stdout.write(`${JSON.stringify(view)}\n`);
        else process.stdout.write(formatLearnerView(view));
        if (!view.found && record.erasures.length === 0)
          throw new GymError('USAGE', `no learner at ${record.address}; check the address`);
      });
    });

  command
    .command('export')
    .description(
      'everything held about this person, as JSON (a subject access request): profile,\n' +
        'enrolments, deliveries with their Message-IDs, progress events, their replies (text and\n' +
        'raw mail in base64), suppressions, manager notes, and any erasure',
    )
    .argument('<email>')
    .option('--out <file>', 'write it to this file (created with owner-only permissions)')
    .action(async (email: string, options: { out?: string }) => {
      await withDatabase(getConfig, async (db, config) => {
        const record = await learnerRecord(db, checkedAddress(email), config.secret);
        const json = `${JSON.stringify({ exportedAt: new Date().toISOString(), ...record }, null, 2)}\n`;
        if (options.out === undefined) process.stdout.write(json);
        else {
          await writeFile(options.out, json, { mode: 0o600 });
          process.stdout.write(`${record.address}: written to ${options.out}\n`);
        }
      });
    });

  command
    .command('erase')
    .description(
      'erase this person (right to erasure): name, address, profile, raw mail, reply text and the\n' +
        'outbox copies go; anonymous counts stay for the report, and a keyed hash of the address\n' +
        'keeps them suppressed, so a re-import refuses them. Writes an audit row (who, when, why)',
    )
    .argument('<email>')
    .option('--confirm', 'really erase (nothing happens without it)')
    .option('--reason <words>', 'why, for the audit row', 'the person asked to be erased')
    .option('--by <name>', 'who decided (default: your user name)')
    .action(async (email: string, options: { confirm?: boolean; reason: string; by?: string }) => {
      const address = checkedAddress(email);
      if (options.confirm !== true)
        throw new GymError(
          'USAGE',
          `erasing ${address} cannot be undone: run gym learner export ${address} first if they asked for a copy, then add --confirm`,
        );
      await withDatabase(getConfig, async (db, config) => {
        const by = operator(options.by);
        const result = await eraseLearner(db, {
          email: address,
          secret: config.secret,
          by,
          reason: options.reason,
          now: new Date(),
        });
        const { outbox, inbox } = await removeMailFiles(config, address, result.sentMessageIds);
        process.stdout.write(
          `${address}: erased by ${by} (audit #${result.erasureId}): ` +
            `${result.removed.replies} replies, ${result.removed.progressEvents} progress events, ` +
            `${outbox} outbox files${config.imapUrl === undefined ? `, ${inbox} inbox files` : ''} removed; ` +
            `${result.removed.cancelled} queued messages cancelled; a re-import will refuse them\n`,
        );
        if (config.imapUrl !== undefined)
          process.stdout.write(
            `their mail in the IMAP mailbox (Processed, Failed) is not ours to delete here: remove it there\n`,
          );
      });
    });

  return command;
}

/** Opens the configured database, brings it up to date, runs `work`, and closes it. */
export async function withDatabase<T>(
  getConfig: () => Config,
  work: (db: GymDatabase['db'], config: Config) => Promise<T>,
): Promise<T> {
  const config = getConfig();
  const database = await createDatabase(databaseConfigFor(config));
  try {
    await migrateToLatest(database.db);
    return await work(database.db, config);
  } finally {
    await database.close();
  }
}

/**
 * After an erasure's commit: the Maildir outbox copies of what we sent the person, and their mail
 * in the Maildir inbox when replies come from it (files, by address or Message-ID).
 */
export async function removeMailFiles(
  config: Config,
  address: string,
  sentMessageIds: readonly string[],
): Promise<{ outbox: number; inbox: number }> {
  const ids = new Set(sentMessageIds.map((id) => id.toLowerCase()));
  const theirs = (headers: string) => {
    const lower = headers.toLowerCase();
    return (
      lower.includes(address) ||
      [...lower.matchAll(/^message-id:\s*(<[^>]*>)/gm)].some((m) => ids.has(m[1]!))
    );
  };
  const outbox = await removeMaildirMessages(join(config.dataDir, 'outbox'), theirs);
  const inbox =
    config.imapUrl === undefined
      ? await removeMaildirMessages(join(config.dataDir, 'inbox'), theirs)
      : 0;
  return { outbox, inbox };
}
