import { Command } from 'commander';
import type { Config } from '../../config/config.js';
import { createDatabase, databaseConfigFor, type GymDatabase } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { needsTrainer, needsTrainerLabel } from '../../db/needs-trainer.js';
import { stuckWindowDays } from '../../report/compute.js';
import { replyStore } from '../../db/reply-store.js';
import { assignHeld } from '../../engine/replies.js';
import { GymError } from '../../errors.js';
import { readMessage } from '../../replies/read.js';
import { printable, printableJson } from '../printable.js';

async function withDatabase<T>(
  config: Config,
  work: (database: GymDatabase) => Promise<T>,
): Promise<T> {
  const database = await createDatabase(databaseConfigFor(config));
  try {
    await migrateToLatest(database.db);
    return await work(database);
  } finally {
    await database.close();
  }
}

/** How far back `gym inbox` lists replies that asked for the trainer (as the report's "stuck"). */
const needsTrainerDays = stuckWindowDays;

function writeNeedsTrainer(flagged: Awaited<ReturnType<typeof needsTrainer>>): void {
  if (flagged.length === 0) return;
  process.stdout.write(`Needs the trainer (last ${needsTrainerDays} days):\n`);
  for (const n of flagged) {
    const week = n.week === null ? '' : `, week ${n.week}`;
    // A learner's words: printed without control characters.
    process.stdout.write(
      `  ${n.occurredAt.toISOString()} ${printable(n.name)} <${printable(n.email)}> ${needsTrainerLabel(n.kind)}${week}\n` +
        (n.words.trim() === ''
          ? ''
          : `    says: ${printable(n.words.replace(/\s+/g, ' ').trim().slice(0, 200))}\n`),
    );
  }
  process.stdout.write('\n');
}

function heldId(text: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new GymError('USAGE', `${text} is not a message number; run gym inbox to list them`);
  return id;
}

async function heldMessage(database: GymDatabase, id: number) {
  const row = await database.db
    .selectFrom('inbound_messages')
    .select(['id', 'status', 'raw', 'from_address', 'subject'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (row === undefined)
    throw new GymError('USAGE', `no inbound message ${id}; run gym inbox to list the held ones`);
  if (row.status !== 'parked' && row.status !== 'quarantined')
    throw new GymError('USAGE', `message ${id} is ${row.status}, not held for review`);
  if (row.raw === null) throw new GymError('USAGE', `message ${id} has no stored copy to read`);
  return { ...row, raw: row.raw };
}

/**
 * `gym inbox`: the mail the reply listener held for a person: unmatched senders, unreadable
 * messages, replies whose signed address names another learner, and programme changes that came
 * without a token. The trainer assigns each to a learner (it is then acted on) or discards it.
 */
export function inboxCommand(getConfig: () => Config): Command {
  const inbox = new Command('inbox')
    .description(
      'list the replies held for review (unmatched, unreadable, or suspicious), and assign each to a\n' +
        'learner or discard it. Nothing is deleted: a discarded message keeps its row and raw copy',
    )
    .option('--json', 'one JSON object per line')
    .action(async (options: { json?: boolean }) => {
      await withDatabase(getConfig(), async (database) => {
        const rows = await database.db
          .selectFrom('inbound_messages')
          .select(['id', 'status', 'received_at', 'from_address', 'subject', 'reason', 'summary'])
          .where('status', 'in', ['parked', 'quarantined'])
          .orderBy('received_at')
          .orderBy('id')
          .execute();
        // Replies that asked for a person (too hard, help, rejoin after a stop): not held, since
        // they were acted on, but the trainer should answer them.
        const flagged = await needsTrainer(database.db, {
          since: new Date(Date.now() - needsTrainerDays * 24 * 60 * 60 * 1000),
        });
        if (options.json) {
          for (const row of rows) process.stdout.write(`${printableJson(row)}\n`);
          for (const n of flagged)
            process.stdout.write(`${printableJson({ needsTrainer: true, ...n })}\n`);
          return;
        }
        writeNeedsTrainer(flagged);
        if (rows.length === 0) {
          process.stdout.write('Nothing is held for review.\n');
          return;
        }
        for (const row of rows) {
          const text = typeof row.summary?.text === 'string' ? row.summary.text : '';
          // Every field may hold a stranger's words: printed without control characters.
          process.stdout.write(
            `#${row.id} ${row.status} ${row.received_at.toISOString()} from ${printable(row.from_address ?? '?')}: ${printable(row.subject ?? '(no subject)')}\n` +
              `    why: ${printable(row.reason ?? '?')}\n` +
              (text === '' ? '' : `    says: ${printable(text.split('\n')[0]!.slice(0, 100))}\n`),
          );
        }
        process.stdout.write(
          `\n${rows.length} held. gym inbox assign <#> <learner email> acts on one as that learner's; ` +
            'gym inbox discard <#> lets it go.\n',
        );
      });
    });

  inbox
    .command('assign')
    .description('act on a held message as a reply from this learner (you vouch for it)')
    .argument('<id>', 'the number gym inbox shows')
    .argument('<learner>', 'the learner’s email address')
    .action(async (idText: string, learner: string) => {
      const config = getConfig();
      await withDatabase(config, async (database) => {
        const held = await heldMessage(database, heldId(idText));
        const outcome = await assignHeld(
          {
            store: replyStore(database.db),
            read: readMessage,
            secret: config.secret,
            replyAddress: config.replyAddress,
            now: () => new Date(),
          },
          held,
          learner,
        );
        if ('problem' in outcome) throw new GymError('USAGE', outcome.problem);
        process.stdout.write(
          `#${held.id} assigned to ${printable(learner)}: ${printable(outcome.applied)}\n`,
        );
      });
    });

  inbox
    .command('discard')
    .description('let a held message go; it stays stored, marked discarded')
    .argument('<id>', 'the number gym inbox shows')
    .action(async (idText: string) => {
      await withDatabase(getConfig(), async (database) => {
        const held = await heldMessage(database, heldId(idText));
        await database.db
          .updateTable('inbound_messages')
          .set({ status: 'discarded', updated_at: new Date() })
          .where('id', '=', held.id)
          .execute();
        process.stdout.write(`#${held.id} discarded\n`);
      });
    });
  return inbox;
}
