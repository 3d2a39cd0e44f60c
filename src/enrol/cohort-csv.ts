import { CsvError, parse as parseStream, type Options } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { didYouMean } from '../sequence/did-you-mean.js';
import { listInWords } from '../sequence/problems.js';
import {
  checkConfidence,
  checkEmail,
  checkLanguage,
  checkName,
  checkSlug,
  checkSlugList,
  checkStartDate,
  checkYesNo,
  fieldName,
  quoted,
  type Checked,
  type LearnerProfile,
} from './profile.js';
import { checkTimeZone } from './time-zone.js';
import type { LanguagePreference } from '../language/languages.js';

/**
 * One mistake in a cohort file, for the trainer who fixes it in their spreadsheet: the physical
 * line in the file (a quoted value over several lines counts every line) and what to change.
 * `column` is the character column, given only when one character is at fault (an unclosed quote).
 */
export interface CohortProblem {
  file: string;
  line: number;
  column?: number;
  message: string;
}

/** A learner read from a cohort file, with the line their row starts on. */
export interface CohortRow extends LearnerProfile {
  line: number;
  /** The manager's IANA zone, when the file gives one: their digests arrive on their clock. */
  manager_time_zone?: string;
  /** The organisation's zone: for its managers without a zone of their own. */
  organisation_time_zone?: string;
}

export interface CohortFile {
  /** Every row without a problem, in file order. */
  rows: CohortRow[];
  /** Every problem in the file, in line order. */
  problems: CohortProblem[];
}

/**
 * The columns a cohort file may have, in the order the messages list them. Header names are
 * matched ignoring case, spaces, dashes and underscores, so `Time Zone` and `timezone` are both
 * `time_zone`; the aliases are what HR exports commonly call them. Any other column becomes a
 * free profile field.
 */
export const cohortColumns = {
  email: { required: true, aliases: ['email_address'] },
  first_name: { required: true, aliases: ['forename', 'given_name'] },
  last_name: { required: true, aliases: ['surname', 'family_name'] },
  time_zone: { required: true, aliases: ['tz'] },
  role: { required: true, aliases: [] },
  organisation: { required: true, aliases: ['organization'] },
  manager_email: { required: true, aliases: ['line_manager_email'] },
  manager_name: { required: true, aliases: ['line_manager_name'] },
  start_date: { required: true, aliases: ['starts_on'] },
  cohort: { required: false, aliases: [] },
  confidence: { required: false, aliases: [] },
  barriers: { required: false, aliases: [] },
  goals: { required: false, aliases: [] },
  share_with_manager: { required: false, aliases: [] },
  language: { required: false, aliases: ['language_preference', 'preferred_language', 'iaith'] },
  manager_language: { required: false, aliases: ['line_manager_language'] },
  manager_time_zone: { required: false, aliases: ['line_manager_time_zone', 'manager_tz'] },
  organisation_time_zone: { required: false, aliases: ['organization_time_zone'] },
} as const satisfies Record<string, { required: boolean; aliases: readonly string[] }>;

type ColumnName = keyof typeof cohortColumns;

const columnNames = Object.keys(cohortColumns) as ColumnName[];
const requiredColumns = columnNames.filter((name) => cohortColumns[name].required);

/**
 * Reads a cohort file (the CSV a trainer exports from a spreadsheet) into learner profiles,
 * checking every row and collecting every problem rather than stopping at the first. It never
 * throws on bad input: a malformed file is a problem with its line.
 *
 * The contract with the caller: **import only when `problems` is empty**. `rows` holds the rows
 * that are fine on their own so that a dry run can show what they would get, but a file with any
 * problem must be fixed and read again as a whole, so that a cohort is never half-imported.
 *
 * Accepts a UTF-8 byte-order mark, `\r\n` line endings, and Excel's `;`-separated files (when
 * the header line has no comma). `now` decides which start dates are too far away.
 *
 * @example
 * const { rows, problems } = readCohortCsv(text, 'cohort.csv', { now: new Date() });
 * if (problems.length > 0) for (const p of problems) console.error(formatCohortProblem(p));
 * // cohort.csv:7 time_zone "Europe/Londn" is not an IANA time zone (did you mean Europe/London?)
 */
export function readCohortCsv(text: string, file: string, options: { now: Date }): CohortFile {
  const rows: CohortRow[] = [];
  const checker = cohortChecker(file, options.now, (row) => rows.push(row));
  // Line endings become \n before parsing: the line count is the same, and a file that mixes
  // Windows and Unix lines (one row pasted from elsewhere) reads as one file.
  const source = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const delimiter = sniffDelimiter(source);
  checker.delimiter(delimiter);
  for (const record of readRecords(source, delimiter, checker.csvReport)) checker.record(record);
  return { rows, problems: checker.finish() };
}

/**
 * `readCohortCsv` for a file of any size: reads `chunks` (the file's text, in pieces) as they
 * come, so memory holds one record at a time plus one entry per learner and manager for the
 * checks across rows, never the file. Rows without a problem go to `onRow` in file order (the
 * same contract: import only when `problems` comes back empty, so a caller that imports reads
 * the file twice: once to check it, once to import it).
 */
export async function readCohortStream(
  chunks: AsyncIterable<string>,
  file: string,
  options: { now: Date; onRow?: (row: CohortRow) => void },
): Promise<{ problems: CohortProblem[]; rows: number }> {
  let rows = 0;
  const reading = cohortRows(chunks, file, options);
  for (;;) {
    const next = await reading.next();
    if (next.done === true) return { problems: next.value, rows };
    rows += 1;
    options.onRow?.(next.value);
  }
}

/**
 * The rows of a cohort file without a problem, as they are read, then (as the generator's return
 * value) every problem of the file. A consumer that is slow (one database write a row) holds the
 * reading back: no more than a piece of the file is read ahead.
 */
export async function* cohortRows(
  chunks: AsyncIterable<string>,
  file: string,
  options: { now: Date },
): AsyncGenerator<CohortRow, CohortProblem[]> {
  const ready: CohortRow[] = [];
  const checker = cohortChecker(file, options.now, (row) => ready.push(row));
  let parser: ReturnType<typeof parseStream> | undefined;
  let ended: Promise<void> = Promise.resolve();
  let delimiter = ',';
  const records: CsvRecord[] = [];
  // The parser starts once the header line is in: the delimiter is read from it.
  const start = (head: string) => {
    delimiter = sniffDelimiter(head);
    checker.delimiter(delimiter);
    const started = parseStream({
      ...parseOptions(delimiter),
      on_skip: (error: CsvError | undefined, raw: string | undefined) => {
        if (error !== undefined) reportCsvError(error, raw, delimiter, checker.csvReport);
        return undefined;
      },
    });
    started.on('data', (read: ParsedRecord) =>
      records.push({ line: read.info.lines - extraLines(read.raw), values: read.record }),
    );
    ended = new Promise<void>((resolve, reject) => {
      started.on('end', resolve);
      started.on('error', reject);
    });
    parser = started;
  };
  const check = () => {
    for (const record of records.splice(0)) checker.record(record);
  };

  let head = '';
  let first = true;
  // A \r at the end of a chunk may be the first half of a \r\n: held back for the next chunk.
  let carry = '';
  const feed = async (text: string) => {
    if (parser === undefined) {
      head += text;
      if (firstNonBlankLineEnd(head) === undefined) return;
      start(head);
      text = head;
      head = '';
    }
    // Back-pressure: wait for the parser to take this piece before reading the next.
    if (!parser!.write(text)) await new Promise((resolve) => parser!.once('drain', resolve));
    check();
  };
  try {
    for await (const chunk of chunks) {
      let text = carry + chunk;
      if (first) {
        text = text.replace(/^\uFEFF/, '');
        first = false;
      }
      carry = text.endsWith('\r') ? '\r' : '';
      if (carry !== '') text = text.slice(0, -1);
      // Line endings become \n, as in readCohortCsv.
      await feed(text.replace(/\r\n?/g, '\n'));
      yield* ready.splice(0);
    }
    await feed(carry === '' ? '' : '\n');
    // A file of one line, with no line break after it: the header alone.
    if (parser === undefined && head !== '') {
      start(head);
      parser!.write(head);
    }
    if (parser !== undefined) {
      parser.end();
      await ended;
    }
  } catch (error) {
    // Errors the parser cannot skip past. Anything that is not a CsvError is our bug: rethrown.
    if (!(error instanceof CsvError)) throw error;
    reportCsvError(error, undefined, delimiter, checker.csvReport);
  }
  check();
  yield* ready.splice(0);
  return checker.finish();
}

/** Where the first line with something on it ends, or undefined while it has not ended. */
function firstNonBlankLineEnd(text: string): number | undefined {
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if (end < 0) return undefined;
    if (text.slice(start, end).trim() !== '') return end;
    start = end + 1;
  }
}

/**
 * The checks of a cohort file, fed one record at a time (the header first): every problem by
 * line, and the checks across rows (one row per learner, one spelling per manager).
 */
function cohortChecker(file: string, now: Date, onRow: (row: CohortRow) => void) {
  const problems: CohortProblem[] = [];
  const report: Report = (line, message, column) =>
    problems.push(column === undefined ? { file, line, message } : { file, line, column, message });
  const today = now.toISOString().slice(0, 10);
  let delimiter = ',';
  let header: { record: CsvRecord; layout: Layout } | undefined;
  // A quote that never closes has eaten the rest of the file: "no learners" would be wrong.
  let unreadable = false;
  let bodyRows = 0;
  const learnerLines = new Map<string, number>();
  const managerNames = new Map<string, { name: string; line: number }>();
  return {
    report,
    /** Reports what the CSV parser could not read. */
    csvReport: ((line, message, column) => {
      unreadable = true;
      report(line, message, column);
    }) satisfies Report,
    delimiter(value: string) {
      delimiter = value;
    },
    record(record: CsvRecord) {
      if (header === undefined) {
        header = { record, layout: readHeader(record, report) };
        return;
      }
      bodyRows += 1;
      const say = (message: string) => report(record.line, message);
      const read = readRow(record, header.layout, delimiter, today, say);
      if (read === undefined) return;
      const { profile } = read;
      let { ok } = read;

      // Checks across rows use whichever values of the row are good, even when others are not,
      // so that fixing one problem does not uncover the next.
      if (profile.email !== '') {
        const firstLine = learnerLines.get(profile.email);
        if (firstLine === undefined) learnerLines.set(profile.email, record.line);
        else {
          ok = false;
          say(`learner ${profile.email} is already on line ${firstLine} (one row per learner)`);
        }
      }
      if (profile.manager_email !== '' && profile.manager_name !== '') {
        const manager = managerNames.get(profile.manager_email);
        if (manager === undefined)
          managerNames.set(profile.manager_email, {
            name: profile.manager_name,
            line: record.line,
          });
        else if (!sameName(manager.name, profile.manager_name)) {
          ok = false;
          say(
            `manager_name ${quoted(profile.manager_name)} differs from ${quoted(manager.name)} on line ${manager.line} for manager ${profile.manager_email} (use one spelling)`,
          );
        }
      }
      if (ok) onRow({ line: record.line, ...profile });
    },
    finish(): CohortProblem[] {
      if (header === undefined) {
        if (problems.length === 0)
          report(1, `the file is empty (expected a header line: ${columnNames.join(', ')})`);
      } else if (bodyRows === 0 && !unreadable) {
        report(header.record.line, 'no learners: the file has a header line but no rows below it');
      }
      return problems.sort((a, b) => a.line - b.line);
    },
  };
}

/** `cohort.csv:7 message`, or `cohort.csv:7:12 message` when the problem has a column. */
export function formatCohortProblem(problem: CohortProblem): string {
  const column = problem.column === undefined ? '' : `:${problem.column}`;
  return `${problem.file}:${problem.line}${column} ${problem.message}`;
}

type Report = (line: number, message: string, column?: number) => void;

interface CsvRecord {
  /** The physical line the record starts on. */
  line: number;
  values: string[];
}

/** `,` unless the header line has none and has `;` (Excel in many European locales) or a tab. */
function sniffDelimiter(source: string): string {
  const headerLine = source.split('\n').find((line) => line.trim() !== '') ?? '';
  if (headerLine.includes(',')) return ',';
  if (headerLine.includes(';')) return ';';
  if (headerLine.includes('\t')) return '\t';
  return ',';
}

interface ParsedRecord {
  record: string[];
  raw: string;
  info: { lines: number };
}

/** How cohort files are parsed, whole or streamed. */
function parseOptions(delimiter: string): Options {
  return {
    delimiter,
    info: true,
    raw: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    skip_records_with_error: true,
  };
}

/**
 * The records of the file with the line each starts on. Blank lines and rows of empty cells
 * (what a spreadsheet leaves below its data) are skipped. A stray quote inside a value is kept
 * as text; a quote that opens a value and never closes swallows the rest of the file, so it is
 * reported where it opens.
 */
function readRecords(source: string, delimiter: string, report: Report): CsvRecord[] {
  const records: CsvRecord[] = [];
  const skipped = (error: CsvError | undefined, raw: string | undefined): undefined => {
    if (error === undefined) return;
    reportCsvError(error, raw, delimiter, report);
  };
  try {
    const parsed = parse(source, {
      ...parseOptions(delimiter),
      on_skip: skipped,
    }) as unknown as ParsedRecord[];
    for (const { record, raw, info } of parsed)
      records.push({ line: info.lines - extraLines(raw), values: record });
  } catch (error) {
    // Errors the parser cannot skip past. Anything that is not a CsvError is our bug: rethrown.
    if (!(error instanceof CsvError)) throw error;
    reportCsvError(error, undefined, delimiter, report);
  }
  return records;
}

/** How many lines after its first a raw record spans: blank lines before it do not count. */
function extraLines(raw: string): number {
  const body = raw.replace(/^\n+/, '').replace(/\n$/, '');
  return body.split('\n').length - 1;
}

function reportCsvError(
  error: CsvError,
  raw: string | undefined,
  delimiter: string,
  report: Report,
): void {
  const lastLine = typeof error.lines === 'number' ? error.lines : 1;
  if (error.code === 'CSV_QUOTE_NOT_CLOSED' && raw !== undefined) {
    const start = lastLine - extraLines(raw);
    const opening = unclosedQuote(raw.replace(/^\n+/, ''), delimiter);
    const line = start + opening.line;
    const lost = lastLine > line ? `lines ${line} to ${lastLine}` : `line ${line}`;
    report(
      line,
      `a quote (") opens a value here and is never closed, so ${lost} could not be read (close the quote, or write a quote inside a value as "")`,
      opening.column,
    );
    return;
  }
  report(lastLine, `the file cannot be read as CSV here: ${error.message}`);
}

/**
 * Where, in a record's raw text, the quote that opens a value and never closes is: 0-based line
 * and 1-based column. A value is quoted only when its first character is a quote.
 */
function unclosedQuote(raw: string, delimiter: string): { line: number; column: number } {
  let inQuote = false;
  let atValueStart = true;
  let opening = 0;
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i];
    if (inQuote) {
      if (char === '"' && raw[i + 1] === '"') i++;
      else if (char === '"') inQuote = false;
      continue;
    }
    if (atValueStart && char === '"') {
      inQuote = true;
      opening = i;
    }
    atValueStart = char === delimiter || char === '\n';
  }
  const before = raw.slice(0, opening);
  const line = before.split('\n').length - 1;
  return { line, column: opening - (before.lastIndexOf('\n') + 1) + 1 };
}

interface Layout {
  /**
   * Each column's field: a known column, a free field, a repeat of an earlier column (reported
   * on the header, its values ignored), or undefined for a column with no name.
   */
  fields: (ColumnName | { free: string } | { repeat: string } | undefined)[];
  /** Where each known column is. */
  known: Partial<Record<ColumnName, number>>;
}

/** Whether the header has every required column: without them no row makes a whole profile. */
function complete(layout: Layout): boolean {
  return requiredColumns.every((name) => layout.known[name] !== undefined);
}

/** Names the header's columns, reporting a missing required column once, against the header. */
function readHeader(header: CsvRecord, report: Report): Layout {
  const layout: Layout = { fields: [], known: {} };
  const seen = new Map<string, number>();
  header.values.forEach((title, index) => {
    const heading = fieldName(title);
    if (heading === '') {
      layout.fields.push(undefined);
      return;
    }
    const known = columnNames.find((name) =>
      [name, ...cohortColumns[name].aliases].some((alias) => compact(alias) === compact(heading)),
    );
    const key = known ?? heading;
    const first = seen.get(key);
    if (first !== undefined) {
      report(
        header.line,
        `column ${key} appears twice in the header (columns ${first + 1} and ${index + 1}); keep one`,
      );
      layout.fields.push({ repeat: key });
      return;
    }
    seen.set(key, index);
    if (known === undefined) layout.fields.push({ free: key });
    else {
      layout.fields.push(known);
      layout.known[known] = index;
    }
  });

  const unknown = header.values.filter((_, index) => {
    const field = layout.fields[index];
    return typeof field === 'object' && 'free' in field;
  });
  const missing: ColumnName[] = [];
  for (const name of requiredColumns) {
    if (layout.known[name] !== undefined) continue;
    const near = didYouMean(
      compact(name),
      unknown.map((title) => compact(fieldName(title))),
    );
    const nearTitle = unknown.find((title) => compact(fieldName(title)) === near);
    if (nearTitle === undefined) missing.push(name);
    else
      report(
        header.line,
        `missing column ${name} (is the column ${quoted(nearTitle.trim())} it? rename it ${name})`,
      );
  }
  if (missing.length > 0)
    report(
      header.line,
      `missing ${missing.length === 1 ? 'column' : 'columns'} ${listInWords(missing)} (every cohort file needs ${listInWords(requiredColumns)})`,
    );
  return layout;
}

/** A column name without separators: `timezone` and `time_zone` are one column. */
function compact(name: string): string {
  return name.replace(/_/g, '');
}

/**
 * One row as a profile, reporting every problem in it. A value with a problem is left empty in
 * the profile, and `ok` is false; undefined when the row does not line up with the header, so
 * that its values cannot be told apart.
 */
function readRow(
  record: CsvRecord,
  layout: Layout,
  delimiter: string,
  today: string,
  say: (message: string) => void,
): { profile: Omit<CohortRow, 'line'>; ok: boolean } | undefined {
  const { values } = record;
  const width = layout.fields.length;
  const extra = values.slice(width);
  if (values.length < width || extra.some((value) => value.trim() !== '')) {
    const separator = delimiter === '\t' ? 'tab' : delimiter === ';' ? 'semicolon' : 'comma';
    const hint =
      values.length > width
        ? ` (a value with a ${separator} in it needs double quotes around it)`
        : ' (every row needs a value, perhaps empty, for every column)';
    say(`has ${values.length} values but the header has ${width} columns${hint}`);
    return undefined;
  }

  let ok = true;
  const cell = (name: ColumnName): string | undefined => {
    const index = layout.known[name];
    return index === undefined ? undefined : (values[index] ?? '');
  };
  /** The checked value of a column, or `fallback` when the column is absent or the cell empty. */
  function read<T>(name: ColumnName, check: (text: string) => Checked<T>, fallback: T): T {
    const text = cell(name);
    if (text === undefined) return fallback; // a missing column is reported once, on the header
    if (text.trim() === '') {
      if (!cohortColumns[name].required) return fallback;
      ok = false;
      say(`${name} is empty (required for every learner)`);
      return fallback;
    }
    const checked = check(text);
    if (checked.ok) return checked.value;
    ok = false;
    say(`${name} ${checked.reason}`);
    return fallback;
  }

  // Read in the order of `cohortColumns`, so a row's problems come in a predictable order.
  const profile: Omit<CohortRow, 'line'> = {
    email: read('email', checkEmail, ''),
    first_name: read('first_name', checkName, ''),
    last_name: read('last_name', checkName, ''),
    time_zone: read('time_zone', checkTimeZone, ''),
    role: read('role', checkSlug, ''),
    organisation: read('organisation', checkName, ''),
    manager_email: read('manager_email', checkEmail, ''),
    manager_name: read('manager_name', checkName, ''),
    start_date: read('start_date', (text) => checkStartDate(text, today), ''),
    cohort: read<string | undefined>('cohort', checkName, undefined),
    confidence: read<number | undefined>('confidence', checkConfidence, undefined),
    barriers: read('barriers', checkSlugList, []),
    goals: read('goals', checkSlugList, []),
    share_with_manager: read('share_with_manager', checkYesNo, false),
    language: read<LanguagePreference | undefined>('language', checkLanguage, undefined),
    manager_language: read<LanguagePreference | undefined>(
      'manager_language',
      checkLanguage,
      undefined,
    ),
    fields: {},
  };
  if (profile.language === undefined) delete profile.language;
  if (profile.manager_language === undefined) delete profile.manager_language;
  const managerZone = read<string | undefined>('manager_time_zone', checkTimeZone, undefined);
  const organisationZone = read<string | undefined>(
    'organisation_time_zone',
    checkTimeZone,
    undefined,
  );
  if (managerZone !== undefined) profile.manager_time_zone = managerZone;
  if (organisationZone !== undefined) profile.organisation_time_zone = organisationZone;
  // Optional fields that were not given are absent, not undefined: the profile is stored as JSON.
  if (profile.cohort === undefined) delete profile.cohort;
  if (profile.confidence === undefined) delete profile.confidence;

  layout.fields.forEach((field, index) => {
    const value = (values[index] ?? '').trim();
    if (value === '') return;
    if (field === undefined) {
      ok = false;
      say(`value ${quoted(value)} is in column ${index + 1}, which has no name in the header line`);
    } else if (typeof field === 'object' && 'free' in field) profile.fields[field.free] = value;
  });

  if (profile.email !== '' && profile.email === profile.manager_email) {
    ok = false;
    say(`manager_email is the learner's own address (give their line manager's)`);
  }
  return { profile, ok: ok && complete(layout) };
}

/** Whether two spellings of a name are the same, ignoring case and repeated spaces. */
function sameName(a: string, b: string): boolean {
  const plain = (name: string) => name.toLowerCase().replace(/\s+/g, ' ');
  return plain(a) === plain(b);
}
