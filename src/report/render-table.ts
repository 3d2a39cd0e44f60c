import {
  describeFlags,
  formatDay,
  formatDays,
  formatPercent,
  formatShortDay,
  learnerStatuses,
  stuckWindowDays,
  statusLabel,
  type LearnerReport,
  type Report,
} from './compute.js';
import { needsTrainerLabel } from '../db/needs-trainer.js';

/**
 * The report as plain-text tables for a terminal. Column widths follow the content, capped so
 * that every table fits in 100 columns; a longer name is cut with an ellipsis rather than
 * pushing the columns after it out of line.
 */

interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
  readonly align?: 'left' | 'right';
  /** The widest it may be; longer values are cut. */
  readonly max?: number;
}

function cut(text: string, max: number | undefined): string {
  const chars = [...text];
  if (max === undefined || chars.length <= max) return text;
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** Width in terminal cells, counting code points (names such as "Siobhán" are one cell a letter). */
const width = (text: string) => [...text].length;

export function textTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string[] {
  const cells = [
    columns.map((c) => c.header),
    ...rows.map((row) => columns.map((c) => cut(c.value(row), c.max))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => width(r[i] ?? ''))));
  return cells.map((r) =>
    r
      .map((cell, i) => {
        const pad = ' '.repeat((widths[i] ?? 0) - width(cell));
        if (columns[i]?.align === 'right') return pad + cell;
        // The last column is not padded: no trailing spaces.
        return i === r.length - 1 ? cell : cell + pad;
      })
      .join('  ')
      .trimEnd(),
  );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const learnerColumns: Column<LearnerReport>[] = [
  { header: 'Learner', value: (l) => l.name, max: 22 },
  { header: 'Week', value: (l) => String(l.currentWeek), align: 'right' },
  { header: 'Done', value: (l) => `${l.done}/${l.due}`, align: 'right' },
  { header: 'Last reply', value: (l) => formatDay(l.lastReplyAt) || '-' },
  { header: 'Status', value: (l) => statusLabel(l) },
  { header: 'Flags', value: (l) => describeFlags(l, formatShortDay), max: 36 },
];

export function renderTable(report: Report): string {
  const { totals } = report;
  const lines: string[] = [];
  const scope = report.cohort === undefined ? 'all cohorts' : `cohort ${report.cohort}`;
  lines.push(
    `Digital Gym report: ${scope}, ${plural(totals.learners, 'learner')}, ` +
      `${report.generatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  );
  // Finished only means the plan ran out: how many finished with nothing done is said with it.
  const idle = report.learners.filter((l) => l.status === 'finished' && l.done === 0).length;
  const statuses = learnerStatuses
    .filter((s) => totals.byStatus[s] > 0)
    .map(
      (s) =>
        `${totals.byStatus[s]} ${s}${s === 'finished' && idle > 0 ? ` (${idle} with nothing done)` : ''}`,
    )
    .join(', ');
  lines.push(`  ${statuses || 'nobody enrolled'}`);
  lines.push(
    `  assignments done ${totals.done} of ${totals.due} sent; ` +
      `reply rate ${formatPercent(totals.replyRate) || 'n/a'} (${totals.repliers} of ${totals.sentTo})`,
  );
  lines.push(
    `  flags: ${totals.flags.stuck} stuck, ${totals.flags.quiet} quiet, ` +
      `${totals.flags.paused} paused, ${totals.flags.behind} behind`,
  );

  lines.push('', 'Programmes');
  lines.push(
    ...textTable(
      [
        { header: 'Programme', value: (p) => p.title, max: 44 },
        { header: 'Learners', value: (p) => String(p.learners), align: 'right' },
        { header: 'Replied', value: (p) => `${p.repliers}/${p.sentTo}`, align: 'right' },
        { header: 'Reply rate', value: (p) => formatPercent(p.replyRate), align: 'right' },
        {
          header: 'Median days to done',
          value: (p) => formatDays(p.medianDaysToDone),
          align: 'right',
        },
      ],
      report.programmes,
    ).map((l) => `  ${l}`),
  );

  const weeks = Math.max(0, ...report.programmes.map((p) => p.weeks));
  lines.push('', 'Completion funnel: learners who have done week N');
  lines.push(
    ...textTable(
      [
        { header: 'Programme', value: (p) => p.title, max: 36 },
        ...Array.from({ length: weeks }, (_, i) => ({
          header: `W${i + 1}`,
          value: (p: Report['programmes'][number]) => (i < p.weeks ? String(p.funnel[i] ?? 0) : ''),
          align: 'right' as const,
        })),
      ],
      report.programmes,
    ).map((l) => `  ${l}`),
  );

  if (report.managers.length > 0) {
    lines.push('', 'Managers');
    lines.push(
      ...textTable(
        [
          { header: 'Manager', value: (m) => m.name, max: 28 },
          { header: 'Learners', value: (m) => String(m.learners), align: 'right' },
          { header: 'Done', value: (m) => `${m.done}/${m.due}`, align: 'right' },
          { header: 'Reply rate', value: (m) => formatPercent(m.replyRate), align: 'right' },
          { header: 'Digests', value: (m) => String(m.digestsSent), align: 'right' },
          { header: 'Replies', value: (m) => String(m.replies), align: 'right' },
          { header: 'Last engaged', value: (m) => formatDay(m.lastEngagementAt) || '-' },
        ],
        report.managers,
      ).map((l) => `  ${l}`),
    );
  }

  if (report.needsTrainer.length > 0) {
    lines.push('', `Needs the trainer (last ${stuckWindowDays} days)`);
    // A learner's words: one line, no control characters (they reach a terminal), cut to fit.
    const oneLine = (text: string, width: number) => {
      const flat = text.replace(/[\p{Cc}\p{Cf}\s]+/gu, ' ').trim();
      return [...flat].length <= width ? flat : `${[...flat].slice(0, width - 1).join('')}…`;
    };
    for (const n of report.needsTrainer) {
      const week = n.week === null ? '' : `, week ${n.week}`;
      const who = `${formatDay(n.occurredAt)} ${n.name} <${n.email}> ${needsTrainerLabel(n.kind)}${week}`;
      lines.push(`  ${oneLine(who, 98)}`);
      if (n.words.trim() !== '') lines.push(`    "${oneLine(n.words, 94)}"`);
    }
  }

  // Learners under their programme, so the programme's long title is said once.
  for (const programme of report.programmes) {
    const members = report.learners.filter((l) => l.programmeId === programme.programmeId);
    lines.push('', `Learners: ${programme.title}`);
    lines.push(...textTable(learnerColumns, members).map((l) => `  ${l}`));
  }
  return `${lines.join('\n')}\n`;
}
