import { readFileSync } from 'node:fs';
import { formatCohortProblem, readCohortCsv, type CohortFile } from '../../src/enrol/cohort-csv.js';

/** The clock every cohort test reads with: start dates in 2026 and 2027 are near, 2029 is not. */
export const now = new Date('2026-12-01T12:00:00Z');

/** A cohort fixture's text. */
export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/cohorts/${name}`, import.meta.url), 'utf8');
}

/** Reads cohort text as `gym enrol` would, with the test clock. */
export function read(text: string, file = 'cohort.csv'): CohortFile {
  return readCohortCsv(text, file, { now });
}

/** The problems of cohort text, one a line as `gym enrol` prints them. */
export function problemLines(text: string, file = 'cohort.csv'): string {
  return read(text, file).problems.map(formatCohortProblem).join('\n');
}

export const header =
  'email,first_name,last_name,time_zone,role,organisation,manager_email,manager_name,start_date,cohort,confidence,barriers,goals,share_with_manager';

/** A row that is fine, as column -> value. */
export const goodRow: Readonly<Record<string, string>> = {
  email: 'ana.lopez@example.gov.uk',
  first_name: 'Ana',
  last_name: 'Lopez',
  time_zone: 'Europe/London',
  role: 'press-officer',
  organisation: 'Home Office',
  manager_email: 'sam.patel@example.gov.uk',
  manager_name: 'Sam Patel',
  start_date: '2027-01-04',
  cohort: 'jan-2027',
  confidence: '2',
  barriers: 'no-time',
  goals: '',
  share_with_manager: 'yes',
};

/** A CSV value, quoted when it must be. */
export function csvValue(value: string): string {
  return /[",;\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** A one-learner file under `header`: the good row with some columns changed. */
export function oneRow(changes: Readonly<Record<string, string>>): string {
  const row = { ...goodRow, ...changes };
  return `${header}\n${header
    .split(',')
    .map((column) => csvValue(row[column] ?? ''))
    .join(',')}\n`;
}
