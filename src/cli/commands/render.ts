import { Command } from 'commander';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config/config.js';
import { GymError } from '../../errors.js';
import { inviteBodies } from '../../calendar/invite.js';
import { composeMessage, type OutgoingMessage } from '../../mail/compose.js';
import { nextMonday } from '../../planner/step-time.js';
import { findProgramme, loadProgrammes } from '../../preview/load.js';
import { previewProgramme, type PreviewItem } from '../../preview/programme-preview.js';
import { readSample } from './preview.js';

export function renderCommand(getConfig: () => Config): Command {
  return new Command('render')
    .description(
      'write the .eml files of one week of a programme (emails and invites), as a learner gets them',
    )
    .argument('<sequence>', 'a programme id or file')
    .requiredOption('--week <n>', 'the week, 1 to 12')
    .requiredOption('--out <dir>', 'the folder to write the .eml files to (created if missing)')
    .option('--learner <file>', 'a sample learner (YAML: learner, manager, starts_on)')
    .option('--dir <path>', 'the sequence files or folder', 'sequences')
    .action(
      async (
        wanted: string,
        options: { week: string; out: string; learner?: string; dir: string },
      ) => {
        const config = getConfig();
        const programmes = await loadProgrammes([options.dir]);
        const programme = findProgramme(programmes, wanted);
        if (programme === undefined) {
          const known = programmes.map((p) => (p.ok ? p.sequence.id : p.path)).join(', ');
          throw new GymError(
            'USAGE',
            `no programme "${wanted}" in ${options.dir} (there are: ${known})`,
          );
        }
        if (!programme.ok) {
          process.stderr.write(`${programme.problems.join('\n')}\n`);
          throw new GymError(
            'SEQUENCE_INVALID',
            `${programme.path} has ${programme.problems.length} problems; run gym validate`,
          );
        }
        const week = Number(options.week);
        if (!programme.sequence.weeks.some((w) => w.week === week)) {
          throw new GymError(
            'USAGE',
            `--week ${options.week}: expected a week from 1 to ${programme.sequence.weeks.length}`,
          );
        }
        const sample = readSample(options.learner);
        const now = new Date();
        const preview = previewProgramme({
          sequence: programme.sequence,
          hash: programme.hash,
          compiled: programme.compiled,
          sample,
          startsOn: sample.starts_on ?? nextMonday(now, sample.learner.time_zone),
          replyAddress: config.replyAddress,
          stamp: now,
        });
        await mkdir(options.out, { recursive: true });
        const items = preview.weeks.find((w) => w.number === week)!.items;
        for (const item of items) {
          const file = join(options.out, item.fileName);
          await writeFile(file, await composeMessage(messageFor(item, config, sample.learner)));
          process.stdout.write(
            `wrote ${file}  ${item.kind === 'email' ? item.email.subject : `invite: ${item.title}`}\n`,
          );
        }
      },
    );
}

function messageFor(
  item: PreviewItem,
  config: Config,
  learner: { first_name: string; last_name: string; email: string },
): OutgoingMessage {
  const [user, domain] = config.replyAddress.split('@') as [string, string];
  const common = {
    from: config.from,
    to: { name: `${learner.first_name} ${learner.last_name}`, email: learner.email },
    replyTo: `${user}+preview@${domain}`,
    messageId: `<preview.w${item.week}.${item.stepId}@${domain}>`,
    date: new Date(),
    headers: { 'List-Unsubscribe': `<mailto:${user}+preview@${domain}?subject=stop>` },
  };
  if (item.kind === 'email') {
    return { ...common, subject: item.email.subject, html: item.email.html, text: item.email.text };
  }
  return {
    ...common,
    subject: `Invitation: ${item.title}`,
    ...inviteBodies(item),
    calendar: { method: 'REQUEST', content: item.ics },
  };
}
