import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import type { Config } from '../../config/config.js';
import { describeSuppression } from '../../consent/suppression.js';
import type { SuppressionHow, SuppressionScope } from '../../consent/suppression.js';
import { eraseManager } from '../../db/erase-manager.js';
import { managerRecord, type ManagerRecord } from '../../db/manager-record.js';
import { GymError } from '../../errors.js';
import { checkedAddress, operator, removeMailFiles, withDatabase } from './learner.js';

/**
 * `gym manager show|export|erase`: a manager's data rights (UK GDPR), as `gym learner` gives a
 * learner's. A manager's "no more digests" is `gym learner suppress EMAIL --scope digests`.
 */
export function managerCommand(getConfig: () => Config): Command {
  const command = new Command('manager').description(
    'one manager: show, export or erase what is held about them (their people, the\n' +
      'introduction and digests sent, their replies and notes, their opt-outs)',
  );

  command
    .command('show')
    .description('one manager: who they manage, what we sent them, their replies and opt-outs')
    .argument('<email>')
    .action(async (email: string) => {
      await withDatabase(getConfig, async (db, config) => {
        const record = await managerRecord(db, checkedAddress(email), config.secret);
        process.stdout.write(formatManagerRecord(record));
        if (record.manager === undefined && record.erasures.length === 0)
          throw new GymError('USAGE', `no manager at ${record.address}; check the address`);
      });
    });

  command
    .command('export')
    .description(
      'everything held about this manager, as JSON (a subject access request): profile, the\n' +
        'names of the people they manage, introduction and digests with their Message-IDs, their\n' +
        'replies (text and raw mail in base64), notes, suppressions, and any erasure',
    )
    .argument('<email>')
    .option('--out <file>', 'write it to this file (created with owner-only permissions)')
    .action(async (email: string, options: { out?: string }) => {
      await withDatabase(getConfig, async (db, config) => {
        const record = await managerRecord(db, checkedAddress(email), config.secret);
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
      'erase this manager (right to erasure): name, address, their mail and notes, the outbox\n' +
        'copies go; their people carry on without a manager; anonymous counts stay; a keyed hash\n' +
        'of the address keeps them out, so a re-import naming them enrols their people without\n' +
        'recreating them. Writes an audit row (who, when, why)',
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
          `erasing ${address} cannot be undone: run gym manager export ${address} first if they asked for a copy, then add --confirm`,
        );
      await withDatabase(getConfig, async (db, config) => {
        const by = operator(options.by);
        const result = await eraseManager(db, {
          email: address,
          secret: config.secret,
          by,
          reason: options.reason,
          now: new Date(),
        });
        const files = await removeMailFiles(config, address, result.sentMessageIds);
        process.stdout.write(
          `${address}: erased by ${by} (audit #${result.erasureId}): ` +
            `${result.removed.replies} replies, ${result.removed.managerNotesCleared} notes, ` +
            `${files.outbox} outbox files${config.imapUrl === undefined ? `, ${files.inbox} inbox files` : ''} removed; ` +
            `${result.removed.learnersUnlinked} learners carry on without a manager; ` +
            `no more mail goes to them, and a re-import will not recreate them\n`,
        );
        if (config.imapUrl !== undefined)
          process.stdout.write(
            `their mail in the IMAP mailbox (Processed, Failed) is not ours to delete here: remove it there\n`,
          );
      });
    });

  return command;
}

/** A stored value as text: a string as it is, nothing as `fallback`. */
function text(value: unknown, fallback = ''): string {
  if (value === null || value === undefined) return fallback;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A manager's record in words, for `gym manager show`. */
export function formatManagerRecord(record: ManagerRecord): string {
  const lines: string[] = [];
  const day = (at: unknown) => (at instanceof Date ? at.toISOString().slice(0, 16) : '-');
  const m = record.manager;
  if (m === undefined) {
    lines.push(
      record.erasures.length > 0
        ? `${record.address}: erased (${record.erasures.map((e) => `${day(e.erased_at)} by ${String(e.erased_by)}`).join('; ')}); nothing personal is held`
        : `${record.address}: no manager at this address`,
    );
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    `${String(m.name)} <${String(m.email)}>  zone ${String(m.time_zone)}  ${String(m.status)}`,
  );
  lines.push('', `Manages (${record.learners.length}):`);
  for (const l of record.learners)
    lines.push(
      `  ${String(l.first_name)} ${String(l.last_name)}  ${text(l.programme, '-')}  ${text(l.enrolment_status, '-')}`,
    );
  lines.push('', 'Sent:');
  for (const i of record.introductions)
    lines.push(`  introduction  ${String(i.status)}  ${day(i.sent_at)}  ${text(i.message_id)}`);
  for (const d of record.digests)
    lines.push(
      `  digest ${String(d.period_starts_on)}  ${String(d.status)}  ${day(d.sent_at)}  ${text(d.message_id ?? d.reason)}`,
    );
  lines.push('', `Replies (${record.replies.length}):`);
  for (const r of record.replies)
    lines.push(
      `  ${day(r.received_at)}  ${String(r.status)}  ${JSON.stringify(text(r.text).slice(0, 80))}`,
    );
  if (record.notes.length > 0) {
    lines.push('', 'Notes:');
    for (const n of record.notes)
      lines.push(
        `  ${day(n.occurred_at)}  ${String(n.action)}${n.about_first_name ? ` about ${text(n.about_first_name)} ${text(n.about_last_name)}` : ''}`,
      );
  }
  lines.push('', 'Opt-outs:');
  const active = record.suppressions.filter((s) => s.lifted_at === null);
  if (active.length === 0) lines.push('  none');
  for (const s of active)
    lines.push(
      `  ${describeSuppression({ address: record.address, scope: s.scope as SuppressionScope, how: s.how as SuppressionHow, createdAt: s.created_at as Date })}`,
    );
  return `${lines.join('\n')}\n`;
}
