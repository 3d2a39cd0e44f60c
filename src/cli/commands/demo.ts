import { Command } from 'commander';
import { relative } from 'node:path';
import { runDemo } from '../../demo/run-demo.js';
import { renderTable } from '../../report/render-table.js';

/** A one-line progress bar on a terminal; a line per week when stderr is a file or a pipe. */
function progressBar(): { update(week: number, of: number): void; done(): void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  return {
    update(week, of) {
      if (week === last) return;
      last = week;
      if (!tty) return;
      const width = 26;
      const filled = Math.round((week / of) * width);
      const label = week > 12 ? 'after the programme' : `week ${week} of 12`;
      process.stderr.write(
        `\r  simulating ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${label}   `,
      );
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'see the whole system work in under a minute: a fresh embedded database and Maildir folders,\n' +
        'the example cohort (8 learners in 5 time zones, 3 managers), all 12 weeks on a simulated\n' +
        'clock, simulated replies read by the real reply pipeline, then the report. Nothing leaves\n' +
        'the machine: every email, invite, acknowledgement and digest is an .eml file in the outbox',
    )
    .option('--dir <path>', 'where the demo keeps its database, inbox and outbox', '.gym/demo')
    .action(async (options: { dir: string }) => {
      const started = Date.now();
      const bar = progressBar();
      const result = await runDemo({
        dir: options.dir,
        onProgress: (week, of) => bar.update(week, of),
      });
      bar.done();
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const show = (path: string) => relative(process.cwd(), path) || '.';
      const sent = result.sent;
      const replies = Object.entries(result.replies)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([kind, n]) => `${n} ${kind.replace('_', ' ')}`)
        .join(', ');
      process.stdout.write(
        `${renderTable(result.report)}\n` +
          `Simulated 12 weeks in ${seconds} s, up to ${result.simulatedUntil.toISOString().slice(0, 10)}.\n` +
          `Sent: ${sent.welcome} welcomes, ${sent.email} programme emails, ${sent.invite} calendar invites ` +
          `(${sent['invite update']} updates, ${sent['invite cancel']} cancellations), ` +
          `${sent.acknowledgement} acknowledgements, ${sent.programme_end} programme-end emails, ` +
          `${sent.introduction} manager introductions, ${sent.digest} manager digests, ` +
          `${sent.trainer_alert} trainer ${sent.trainer_alert === 1 ? 'alert' : 'alerts'} (to ${result.trainerAddress}).\n` +
          `Intake: ${result.intakeMoves} ${result.intakeMoves === 1 ? 'learner' : 'learners'} moved to another programme by their answers to the welcome.\n` +
          `Simulated replies: ${replies}.\n\n` +
          `Open the report:      ${show(result.reportHtml)}\n` +
          `Open any email:       ${show(result.outbox)}/  (each file is an .eml; copy one to x.eml and open it)\n` +
          `Next: gym preview to see the programmes, gym validate to check them, gym --help for the rest.\n`,
      );
    });
}
