import { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { GymError, messageOf } from '../../errors.js';
import { readMessage } from '../../replies/read.js';
import type { ReadMessage } from '../../replies/types.js';

/** The JSON line `gym reply inspect --json` prints for one file. */
function inspection(file: string, read: ReadMessage): Record<string, unknown> {
  return {
    file,
    kind: read.kind,
    text: read.text,
    intent: read.intent ?? null,
    // Added by #12: how sure the reading is (a probable command is asked about, not acted on)
    // and the language the learner wrote in.
    ...(read.kind === 'reply'
      ? { confidence: read.confidence ?? null, language: read.language ?? null }
      : {}),
    ...(read.bounce === undefined
      ? {}
      : { bounce: { status: read.bounce.status, recipient: read.bounce.recipient ?? null } }),
    ...(read.rsvp === undefined
      ? {}
      : {
          rsvp: {
            uid: read.rsvp.uid,
            partstat: read.rsvp.partstat,
            attendee: read.rsvp.attendee ?? null,
          },
        }),
  };
}

function describe(file: string, read: ReadMessage): string {
  const lines = [`${file}: ${read.kind} (${read.evidence})`];
  if (read.intent !== undefined) {
    const { type, ...details } = read.intent;
    const extra = Object.entries(details).map(([k, v]) => `${k} ${String(v)}`);
    const how = [read.confidence, read.language].filter((v) => v !== undefined).join(', ');
    lines.push(`  intent: ${[type, ...extra].join(', ')}${how === '' ? '' : ` (${how})`}`);
  }
  if (read.bounce !== undefined)
    lines.push(
      `  bounce: ${read.bounce.status} (${read.bounce.hard ? 'hard' : 'soft'}) for ${read.bounce.recipient ?? 'an unnamed recipient'}`,
    );
  if (read.rsvp !== undefined)
    lines.push(
      `  rsvp: ${read.rsvp.partstat} from ${read.rsvp.attendee ?? '?'} for ${read.rsvp.uid}`,
    );
  if (read.text !== '') lines.push(...read.text.split('\n').map((line) => `  | ${line}`));
  return lines.join('\n');
}

export function replyCommand(): Command {
  const reply = new Command('reply').description('work with learners’ replies without a database');
  reply
    .command('inspect')
    .description(
      'read .eml files as the reply listener would, with no database: the kind (reply, auto_reply,\n' +
        'bounce, rsvp), the learner’s own words with quotes and signatures removed, and the intent',
    )
    .argument('<files...>', '.eml files')
    .option('--json', 'one JSON object per line per file')
    .action(async (files: string[], options: { json?: boolean }) => {
      let unreadable = 0;
      for (const file of files) {
        let read: ReadMessage;
        try {
          read = await readMessage(await readFile(file));
        } catch (error) {
          unreadable += 1;
          const problem = `${file}: cannot read it: ${messageOf(error)}`;
          if (options.json)
            process.stdout.write(`${JSON.stringify({ file, error: messageOf(error) })}\n`);
          else process.stderr.write(`${problem}\n`);
          continue;
        }
        process.stdout.write(
          options.json
            ? `${JSON.stringify(inspection(file, read))}\n`
            : `${describe(file, read)}\n`,
        );
      }
      if (unreadable > 0)
        throw new GymError(
          'USAGE',
          `${unreadable} of ${files.length} file${files.length === 1 ? '' : 's'} could not be read`,
        );
    });
  return reply;
}
