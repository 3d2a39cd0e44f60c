import { Command, Option } from 'commander';
import { writeFile } from 'node:fs/promises';
import type { Config } from '../../config/config.js';
import { createDatabase, databaseConfigFor } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { sendCapsOf } from '../../db/send-budget.js';
import { readEngineStatus } from '../../db/status-store.js';
import { GymError, messageOf } from '../../errors.js';
import { computeReport, type Report } from '../../report/compute.js';
import { renderCsv } from '../../report/render-csv.js';
import { renderHtml } from '../../report/render-html.js';
import { expectedFinish } from '../../report/expected-finish.js';
import { renderTable } from '../../report/render-table.js';
import { cohortsOf, readReportData } from '../../report/snapshot.js';

const formats = ['table', 'csv', 'html'] as const;
type Format = (typeof formats)[number];

/** Below this many learners the report is read in a blink; a progress line would only flicker. */
const progressFrom = 500;

export const noLearnersYet = 'no learners yet: enrol a cohort with gym enrol FILE.csv';

function render(report: Report, sending: Sending, format: Format, json: boolean): string {
  if (json) return `${JSON.stringify({ ...report, sending })}\n`;
  if (format === 'csv') return renderCsv(report);
  if (format === 'html') return renderHtml(report);
  return `${renderTable(report)}\n${sendingLine(sending)}\n`;
}

/** The outbox in one line of the report: what waits, and when it will all be out (`gym status`). */
interface Sending {
  readonly dueNow: number;
  readonly expectedFinish: Date | null;
  readonly basis: string;
}

function sendingLine(sending: Sending): string {
  if (sending.dueNow === 0) return 'Sending: nothing is waiting';
  const when =
    sending.expectedFinish === null ? '' : `, all out by ${sending.expectedFinish.toISOString()}`;
  return `Sending: ${sending.dueNow} due now${when} (${sending.basis})`;
}

export function reportCommand(getConfig: () => Config): Command {
  return new Command('report')
    .description(
      'where every learner is: week, assignments done of those sent, last reply,\n' +
        'status and flags (stuck, quiet, paused, behind); per programme the completion\n' +
        'funnel and reply rate; per manager their people and their engagement',
    )
    .option('--cohort <name>', 'only this cohort')
    .addOption(
      new Option('--format <format>', 'table for the terminal, csv per learner, or one html page')
        .choices(formats)
        .default('table'),
    )
    .option('--out <file>', 'write the report to this file instead of the standard output')
    .option('--json', 'print the report as one JSON object')
    .action(async (options: { cohort?: string; format: Format; out?: string; json?: boolean }) => {
      if (options.json && options.format !== 'table') {
        throw new GymError('USAGE', '--json and --format are alternatives: choose one');
      }
      const config = getConfig();
      const database = await createDatabase(databaseConfigFor(config));
      let report: Report;
      let sending: Sending;
      try {
        await migrateToLatest(database.db);
        const showProgress = process.stderr.isTTY && !options.json;
        const data = await readReportData(database.db, {
          cohort: options.cohort,
          now: new Date(),
          onProgress: showProgress
            ? (done, total) => {
                if (total < progressFrom) return;
                process.stderr.write(`\rreading learners ${done}/${total}`);
                if (done === total) process.stderr.write('\n');
              }
            : undefined,
        });
        report = computeReport(data);
        const status = await readEngineStatus(database.db, new Date());
        const finish = expectedFinish(status, sendCapsOf(config));
        sending = {
          dueNow: status.queue.dueNow,
          expectedFinish: finish.at ?? null,
          basis: finish.basis,
        };
        if (report.learners.length === 0 && options.cohort !== undefined) {
          const cohorts = (await cohortsOf(database.db)).filter((c) => c.cohort !== null);
          if (cohorts.length > 0) {
            throw new GymError(
              'USAGE',
              `no learners in cohort "${options.cohort}"; the cohorts are ${cohorts.map((c) => `${c.cohort} (${c.enrolments})`).join(', ')}`,
            );
          }
        }
      } finally {
        await database.close();
      }

      if (report.learners.length === 0 && options.cohort === undefined) {
        // Said plainly on the terminal; a file or a pipe still gets a well-formed empty report.
        if (options.format === 'table' && !options.json && options.out === undefined) {
          process.stdout.write(`${noLearnersYet}\n`);
          return;
        }
        process.stderr.write(`${noLearnersYet}\n`);
      }

      const output = render(report, sending, options.format, options.json === true);
      if (options.out === undefined) {
        process.stdout.write(output);
        return;
      }
      try {
        await writeFile(options.out, output);
      } catch (cause) {
        throw new GymError(
          'USAGE',
          `cannot write ${options.out}: ${messageOf(cause)}`,
          { file: options.out },
          { cause },
        );
      }
      process.stdout.write(
        `wrote ${options.out}: ${report.learners.length} learner${report.learners.length === 1 ? '' : 's'}\n`,
      );
    });
}
