import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import type { Config } from '../../config/config.js';
import { createDatabase, databaseConfigFor } from '../../db/database.js';
import { enrolmentStore } from '../../db/enrolment-store.js';
import { migrateToLatest } from '../../db/migrate.js';
import {
  cohortRows,
  formatCohortProblem,
  readCohortStream,
  type CohortRow,
} from '../../enrol/cohort-csv.js';
import { cohortEncoding, cohortText } from '../../enrol/encoding.js';
import {
  enrolCohort,
  NoProgrammeMatches,
  type EnrolResult,
  type ProgrammeVersion,
} from '../../engine/enrol.js';
import { GymError } from '../../errors.js';
import {
  parsePreference,
  preferenceHint,
  type LanguagePreference,
} from '../../language/languages.js';
import { holidaysFromIcs, holidaysFromList } from '../../planner/index.js';
import { loadSequenceFiles } from '../../sequence/load-files.js';
import { heapKeeper } from '../heap.js';

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new GymError(
      'USAGE',
      `cannot read ${what} ${file}: ${(cause as Error).message}`,
      { file },
      { cause },
    );
  }
}

/**
 * The rows of a checked cohort file, read again for the import (a file of any size is never held
 * whole). Throws, rolling the import back, if the file changed since it was checked.
 */
async function* rowsOfCheckedFile(
  file: string,
  encoding: string,
  now: Date,
  expected: number,
): AsyncGenerator<CohortRow> {
  const reading = cohortRows(cohortText(file, encoding), file, { now });
  let count = 0;
  for (;;) {
    const next = await reading.next();
    if (next.done === true) {
      if (next.value.length > 0 || count !== expected)
        throw new GymError(
          'COHORT_INVALID',
          `${file} changed while it was being imported; nothing was imported, run again`,
        );
      return;
    }
    count += 1;
    yield next.value;
  }
}

function readHolidays(file: string | undefined): ReadonlySet<string> {
  if (file === undefined) return new Set();
  const text = readText(file, 'the holidays file');
  const calendar = /\.ics$/i.test(file);
  const { holidays, problems } = calendar ? holidaysFromIcs(text) : holidaysFromList(text);
  const lines = problems.map(
    (p) => `${file}${p.line === undefined ? '' : `:${p.line}`} ${p.message}`,
  );
  // A calendar may hold timed meetings and other events that are not days off: those are left
  // out with a warning. In a plain list every line is meant as a day off, so a bad one is an error.
  if (calendar || lines.length === 0) {
    for (const line of lines) process.stderr.write(`warning: ${line}\n`);
    return holidays;
  }
  throw new GymError(
    'USAGE',
    `${lines[0]}${lines.length > 1 ? ` (and ${lines.length - 1} more)` : ''}`,
  );
}

function readLanguage(text: string | undefined): LanguagePreference | undefined {
  if (text === undefined) return undefined;
  const preference = parsePreference(text);
  if (preference === undefined)
    throw new GymError('USAGE', `--language ${text}: expected ${preferenceHint}`);
  return preference;
}

/** The programmes of `dir`, versioned; refuses a folder with a broken file. */
export function loadProgrammeVersions(dir: string): ProgrammeVersion[] {
  const results = loadSequenceFiles([dir]);
  const broken = results.filter((r) => !r.ok);
  if (broken.length > 0) {
    throw new GymError(
      'SEQUENCE_INVALID',
      `${broken.map((r) => r.path).join(', ')} ha${broken.length === 1 ? 's' : 've'} problems; run gym validate ${dir}`,
    );
  }
  return results.flatMap((r) => (r.ok ? [{ sequence: r.sequence, hash: r.hash }] : []));
}

interface ResultPrinter {
  row(result: EnrolResult): void;
  end(): void;
}

/** The table of results, a row at a time, then the totals. */
function tablePrinter(): ResultPrinter {
  const counts = { all: 0, enrolled: 0, kept: 0, skipped: 0, dry: false };
  return {
    row(r) {
      counts.all += 1;
      if (r.action === 'skipped') {
        // Someone who said no: named by line, never enrolled (#11).
        process.stdout.write(`line ${r.line}: ${r.email} ${r.notice ?? 'said no; skipped'}\n`);
        counts.skipped += 1;
        return;
      }
      const when = r.firstStep ? `  first step ${r.firstStep.replace('T', ' ')}` : '';
      process.stdout.write(
        `${String(r.line).padStart(5)}  ${r.action.padEnd(11)} ${r.email}  →  ${r.programmeId}${when}\n`,
      );
      process.stdout.write(`       ${r.notice ?? r.reason}\n`);
      if (r.zoneNotice !== undefined) process.stdout.write(`       ${r.zoneNotice}\n`);
      if (r.managerNotice !== undefined) process.stdout.write(`       ${r.managerNotice}\n`);
      // A learner who asked for a language the programme lacks: said by line, never silent.
      if (r.languageNotice !== undefined)
        process.stdout.write(`line ${r.line}: ${r.email} ${r.languageNotice}\n`);
      if (r.action === 'enrolled' || r.action === 'would-enrol') counts.enrolled += 1;
      if (r.action === 'kept' || r.action === 'would-keep') counts.kept += 1;
      if (r.action.startsWith('would')) counts.dry = true;
    },
    end() {
      const dry = counts.dry ? ' (dry run: nothing was written)' : '';
      const refused = counts.skipped > 0 ? `, ${counts.skipped} skipped (they said no)` : '';
      process.stdout.write(
        `${counts.all} learners: ${counts.enrolled} ${dry ? 'would be ' : ''}enrolled, ${counts.kept} already on a programme${refused}${dry}\n`,
      );
    },
  };
}

/** `{"file":…,"dryRun":…,"learners":[…]}` on one line, written a learner at a time. */
function jsonPrinter(file: string, dryRun: boolean): ResultPrinter {
  let first = true;
  process.stdout.write(`${JSON.stringify({ file, dryRun }).slice(0, -1)},"learners":[`);
  return {
    row(result) {
      process.stdout.write(`${first ? '' : ','}${JSON.stringify(result)}`);
      first = false;
    },
    end() {
      process.stdout.write(']}\n');
    },
  };
}

export function enrolCommand(getConfig: () => Config): Command {
  return new Command('enrol')
    .description(
      'enrol a cohort from a CSV file: each learner gets the programme that fits, with the reason,\n' +
        'and its twelve weeks planned in their zone. Re-importing updates instead of duplicating,\n' +
        'and skips (naming the line) anyone who unsubscribed, bounced or stopped that programme;\n' +
        'a file with any bad row imports nothing',
    )
    .argument(
      '<cohort.csv>',
      'columns: email, first_name, last_name, time_zone, role, organisation, manager_email, manager_name, start_date, and optionally cohort, confidence, barriers, goals, share_with_manager, language, manager_language, ...',
    )
    .option('--dry-run', 'show who would get which programme and why, and write nothing')
    .option(
      '--encoding <name>',
      'the file’s character encoding when it is not UTF-8, such as windows-1252 (Excel’s plain "CSV" on Windows)',
    )
    .option('--json', 'print one JSON object')
    .option('--dir <path>', 'the programmes', 'sequences')
    .option(
      '--language <cy|en|cy+en>',
      "the organisation's language for rows without one, remembered for its later files " +
        '(cy+en, both with Welsh first, is the safe default for Welsh public bodies; else English)',
    )
    .option(
      '--holidays <file>',
      "the organisation's days off: one YYYY-MM-DD a line, or an .ics calendar",
    )
    .option(
      '--clock <iso>',
      'enrol as of this instant (as gym run --clock): when the welcome goes, which dates are near',
    )
    .action(
      async (
        file: string,
        options: {
          dryRun?: boolean;
          json?: boolean;
          dir: string;
          holidays?: string;
          encoding?: string;
          language?: string;
          clock?: string;
        },
      ) => {
        const config = getConfig();
        const defaultLanguage = readLanguage(options.language);
        try {
          await access(file, constants.R_OK);
        } catch (cause) {
          throw new GymError(
            'USAGE',
            `cannot read the cohort file ${file}: ${(cause as Error).message}`,
            { file },
            { cause },
          );
        }
        // Streamed twice: once to check every row, once to import. Memory holds a piece of the
        // file and one entry per learner, whatever its size.
        const now = options.clock === undefined ? new Date() : new Date(options.clock);
        if (Number.isNaN(now.getTime()))
          throw new GymError(
            'USAGE',
            `--clock ${options.clock}: expected an ISO date and time, such as 2027-01-04T09:00:00Z`,
          );
        const encoding = await cohortEncoding(file, options.encoding);
        if (encoding !== 'utf-8') process.stderr.write(`reading ${file} as ${encoding}\n`);
        const cohort = await readCohortStream(cohortText(file, encoding), file, { now });
        if (cohort.problems.length > 0) {
          for (const problem of cohort.problems)
            process.stdout.write(`${formatCohortProblem(problem)}\n`);
          throw new GymError(
            'COHORT_INVALID',
            `${cohort.problems.length} problem${cohort.problems.length === 1 ? '' : 's'} in ${file}; nothing was imported`,
          );
        }
        const programmes = loadProgrammeVersions(options.dir);
        const holidays = readHolidays(options.holidays);
        const database = await createDatabase(databaseConfigFor(config));
        try {
          await migrateToLatest(database.db);
          const showProgress =
            !options.json && options.dryRun !== true && cohort.rows >= 200 && process.stderr.isTTY;
          const rows = rowsOfCheckedFile(file, encoding, now, cohort.rows);
          const dryRun = options.dryRun === true;
          // Memory stays flat however large the file: about 150 MB at 100,000 rows.
          const keepHeapSmall = heapKeeper(96 * 1024 * 1024);
          let printer: ResultPrinter | undefined;
          const print = () =>
            (printer ??= options.json ? jsonPrinter(file, dryRun) : tablePrinter());
          const results = await enrolCohort(
            enrolmentStore(database.db, { secret: config.secret }),
            rows,
            programmes,
            {
              dryRun,
              holidays,
              defaultLanguage,
              now,
              total: cohort.rows,
              // A dry run writes nothing, so it prints as it goes and keeps no results; a real run
              // prints once the whole cohort is in.
              onResult: dryRun ? (result) => print().row(result) : undefined,
              onProgress: (done, total) => {
                if (done % 500 === 0) keepHeapSmall();
                if (!showProgress) return;
                if (done % 100 === 0 || done === total)
                  process.stderr.write(`\renrolling ${done}/${total}`);
                if (done === total) process.stderr.write('\n');
              },
            },
          );
          for (const result of results) print().row(result);
          print().end();
          // The programmes' emails, and the acknowledgements and digests, compiled and stored
          // now, once, so that workers never run MJML.
          if (!dryRun) {
            await (
              await import('../../db/compiled-programmes.js')
            ).precompileProgrammes(database.db, {
              validation: 'soft',
            });
            await (
              await import('../../db/compiled-layouts.js')
            ).precompileLayouts(database.db, { validation: 'soft' });
          }
        } catch (error) {
          if (error instanceof NoProgrammeMatches) {
            throw new GymError(
              'COHORT_INVALID',
              `${file}:${error.line} ${error.email}: ${error.reason}; nothing was imported`,
            );
          }
          throw error;
        } finally {
          await database.close();
        }
      },
    );
}
