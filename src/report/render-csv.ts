import { formatDay, type LearnerReport, type Report } from './compute.js';

/**
 * One row per learner, RFC 4180: comma-separated, CRLF line ends, a field quoted when it holds a
 * comma, a quote or a line break, quotes doubled inside. Learner names come from a cohort file
 * someone else wrote, and the CSV is opened in a spreadsheet: a text cell starting with = + - @
 * (or a tab or carriage return, which some spreadsheets skip before reading a formula) gets a
 * leading apostrophe so that it is shown as text, never run as a formula.
 */

const formulaStart = /^[=+\-@\t\r]/;

export function csvField(value: string | number | boolean | undefined | null): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const safe = formulaStart.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const columns: readonly [string, (l: LearnerReport) => string | number | boolean | null][] = [
  ['name', (l) => l.name],
  ['email', (l) => l.email],
  ['manager', (l) => l.manager ?? ''],
  ['programme_id', (l) => l.programmeId],
  ['programme', (l) => l.programme],
  ['cohort', (l) => l.cohort],
  ['current_week', (l) => l.currentWeek],
  ['assignments_done', (l) => l.done],
  ['assignments_due', (l) => l.due],
  ['last_reply', (l) => formatDay(l.lastReplyAt)],
  ['status', (l) => l.status],
  ['paused_until', (l) => formatDay(l.pausedUntil)],
  ['stuck', (l) => l.flags.stuck],
  ['quiet', (l) => l.flags.quiet],
  ['paused', (l) => l.flags.paused],
  ['behind', (l) => l.flags.behind],
];

export function renderCsv(report: Report): string {
  const rows = [
    columns.map(([header]) => header),
    ...report.learners.map((l) => columns.map(([, value]) => csvField(value(l)))),
  ];
  return rows.map((r) => `${r.join(',')}\r\n`).join('');
}
