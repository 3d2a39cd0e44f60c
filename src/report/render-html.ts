import {
  describeFlags,
  formatDay,
  formatDays,
  formatPercent,
  learnerStatuses,
  statusLabel,
  type ManagerReport,
  type ProgrammeReport,
  type Report,
} from './compute.js';
import { needsTrainerLabel } from '../db/needs-trainer.js';

/**
 * The report as one self-contained HTML file to mail or archive: inline CSS, charts as inline
 * SVG, no script and no external asset (the Content-Security-Policy says so, too, so that even a
 * value that slipped past escaping could not load or run anything). Every chart has a <title>
 * and a <desc>, and its numbers are in a table next to it, for screen readers and for copying.
 */

/** Escapes text for an element or a quoted attribute. Every value from the database goes through it. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const e = escapeHtml;

const styles = `
  :root { color-scheme: light; --ink: #0b0c0c; --muted: #505a5f; --line: #b1b4b6;
    --bar: #1d70b8; --track: #e8f1f8; --warn: #942514; --paper: #fff; }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--paper); color: var(--ink);
    font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Arial, sans-serif; }
  main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
  h1 { font-size: 1.8rem; margin: 0 0 4px; }
  h2 { font-size: 1.35rem; margin: 36px 0 12px; border-bottom: 2px solid var(--ink); padding-bottom: 4px; }
  h3 { font-size: 1.1rem; margin: 24px 0 8px; }
  .meta { color: var(--muted); margin: 0 0 16px; }
  dl.totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr));
    gap: 12px; margin: 0; }
  dl.totals div { border-left: 4px solid var(--bar); padding: 4px 10px; }
  dl.totals dt { color: var(--muted); font-size: .9rem; }
  dl.totals dd { margin: 0; font-size: 1.4rem; font-weight: 700; }
  figure { margin: 8px 0 12px; }
  figcaption { color: var(--muted); font-size: .9rem; }
  svg { display: block; max-width: 100%; height: auto; }
  svg text { font: 12px system-ui, -apple-system, "Segoe UI", Arial, sans-serif; fill: var(--ink); }
  svg .bar { fill: var(--bar); }
  svg .track { fill: var(--track); }
  svg .axis { stroke: var(--line); }
  .scroll { overflow-x: auto; }
  table { border-collapse: collapse; margin: 8px 0 16px; font-size: .95rem; }
  caption { text-align: left; font-weight: 600; padding: 4px 0; }
  th, td { border-bottom: 1px solid var(--line); padding: 4px 10px 4px 0; text-align: left;
    vertical-align: top; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  td.day { white-space: nowrap; }
  table.funnel { min-width: 340px; }
  .flag { display: inline-block; border: 1px solid var(--warn); color: var(--warn);
    border-radius: 3px; padding: 0 5px; margin: 0 4px 2px 0; font-size: .85rem; }
  @media print { h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
`;

/** A vertical bar per week: how many learners have done it, out of the programme's learners. */
function funnelChart(programme: ProgrammeReport, id: string): string {
  const barWidth = 34;
  const gap = 12;
  const left = 36;
  const top = 24;
  const plot = 150;
  // Wide enough for the axis label even when a programme has only a few weeks.
  const width = Math.max(260, left + programme.weeks * (barWidth + gap) + gap);
  const height = top + plot + 40;
  const scale = Math.max(1, programme.learners);
  const baseline = top + plot;
  const bars = programme.funnel.map((count, i) => {
    const x = left + gap + i * (barWidth + gap);
    const h = (count / scale) * plot;
    const label = `Week ${i + 1}: ${count} of ${programme.learners} learners done`;
    return (
      `<rect class="bar" x="${x}" y="${(baseline - h).toFixed(1)}" width="${barWidth}" height="${h.toFixed(1)}">` +
      `<title>${e(label)}</title></rect>` +
      `<text x="${x + barWidth / 2}" y="${(baseline - h - 5).toFixed(1)}" text-anchor="middle">${count}</text>` +
      `<text x="${x + barWidth / 2}" y="${baseline + 16}" text-anchor="middle">W${i + 1}</text>`
    );
  });
  const summary = programme.funnel.map((c, i) => `week ${i + 1}: ${c}`).join(', ');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="funnel" role="img" viewBox="0 0 ${width} ${height}" ` +
    `width="${width}" height="${height}" aria-labelledby="${id}-title ${id}-desc">` +
    `<title id="${id}-title">Completion funnel: ${e(programme.title)}</title>` +
    `<desc id="${id}-desc">Learners who have done each week, out of ${programme.learners}: ${e(summary)}.</desc>` +
    `<text x="${left - 6}" y="${top + 4}" text-anchor="end">${programme.learners}</text>` +
    `<text x="${left - 6}" y="${baseline}" text-anchor="end">0</text>` +
    `<line class="axis" x1="${left}" y1="${baseline}" x2="${width - gap / 2}" y2="${baseline}"/>` +
    `<line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${baseline}"/>` +
    bars.join('') +
    `<text x="${left + gap}" y="${height - 4}">week of the programme</text>` +
    `</svg>`
  );
}

function funnelTable(programme: ProgrammeReport): string {
  const weeks = programme.funnel.map((_, i) => `<th scope="col" class="num">W${i + 1}</th>`);
  const counts = programme.funnel.map((c) => `<td class="num">${c}</td>`);
  return (
    `<div class="scroll"><table class="funnel"><caption>Learners who have done each week (of ${programme.learners})</caption>` +
    `<thead><tr><th scope="col">Week</th>${weeks.join('')}</tr></thead>` +
    `<tbody><tr><th scope="row">Done</th>${counts.join('')}</tr></tbody></table></div>`
  );
}

const short = (text: string, max: number) =>
  [...text].length <= max ? text : `${[...text].slice(0, max - 1).join('')}…`;

/** A horizontal bar per manager: their learners' assignments done, out of those sent. */
function managerChart(managers: readonly ManagerReport[], id: string): string {
  const label = 200;
  const track = 420;
  const row = 30;
  const width = label + track + 110;
  const height = managers.length * row + 10;
  const rows = managers.map((m, i) => {
    const y = 5 + i * row;
    const fraction = m.due === 0 ? 0 : Math.min(1, m.done / m.due);
    const words = `${m.name}: ${m.done} of ${m.due} assignments done`;
    return (
      `<text x="${label - 8}" y="${y + 17}" text-anchor="end">${e(short(m.name, 28))}</text>` +
      `<rect class="track" x="${label}" y="${y + 3}" width="${track}" height="20"/>` +
      `<rect class="bar" x="${label}" y="${y + 3}" width="${(fraction * track).toFixed(1)}" height="20">` +
      `<title>${e(words)}</title></rect>` +
      `<text x="${label + track + 8}" y="${y + 17}">${m.done}/${m.due} (${m.due === 0 ? 'n/a' : formatPercent(fraction)})</text>`
    );
  });
  const summary = managers.map((m) => `${m.name} ${m.done} of ${m.due}`).join(', ');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="managers" role="img" viewBox="0 0 ${width} ${height}" ` +
    `width="${width}" height="${height}" aria-labelledby="${id}-title ${id}-desc">` +
    `<title id="${id}-title">Assignments done out of those sent, by manager</title>` +
    `<desc id="${id}-desc">${e(summary)}.</desc>` +
    rows.join('') +
    `</svg>`
  );
}

const cell = (value: string, kind: 'text' | 'num' | 'day' = 'text') =>
  `<td${kind === 'text' ? '' : ` class="${kind}"`}>${e(value)}</td>`;

function table(caption: string, headers: readonly [string, boolean][], rows: string[]): string {
  const head = headers
    .map(([h, numeric]) => `<th scope="col"${numeric ? ' class="num"' : ''}>${e(h)}</th>`)
    .join('');
  return (
    `<div class="scroll"><table><caption>${e(caption)}</caption><thead><tr>${head}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table></div>`
  );
}

export function renderHtml(report: Report): string {
  const { totals } = report;
  const scope = report.cohort === undefined ? 'all cohorts' : `cohort ${report.cohort}`;
  const generated = `${report.generatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const figure = (label: string, value: string) =>
    `<div><dt>${e(label)}</dt><dd>${e(value)}</dd></div>`;

  const summary = [
    figure('Learners', String(totals.learners)),
    ...learnerStatuses
      .filter((s) => totals.byStatus[s] > 0)
      .map((s) => figure(s[0]!.toUpperCase() + s.slice(1), String(totals.byStatus[s]))),
    figure('Assignments done', `${totals.done} of ${totals.due}`),
    figure('Reply rate', formatPercent(totals.replyRate) || 'n/a'),
    figure('Stuck', String(totals.flags.stuck)),
    figure('Quiet', String(totals.flags.quiet)),
    figure('Behind', String(totals.flags.behind)),
  ].join('');

  const programmes = report.programmes.map((p, i) => {
    const facts =
      `${p.learners} learner${p.learners === 1 ? '' : 's'}; reply rate ${formatPercent(p.replyRate) || 'n/a'} ` +
      `(${p.repliers} of ${p.sentTo}); median days from assignment to done: ${formatDays(p.medianDaysToDone) || 'n/a'}`;
    return (
      `<section class="programme"><h3>${e(p.title)}</h3><p class="meta">${e(facts)}</p>` +
      `<figure>${funnelChart(p, `funnel-${i}`)}<figcaption>Learners who have done each week</figcaption></figure>` +
      `${funnelTable(p)}</section>`
    );
  });

  const managers =
    report.managers.length === 0
      ? '<p>No learner in this report has a manager.</p>'
      : `<figure>${managerChart(report.managers, 'managers-chart')}` +
        `<figcaption>Assignments done out of those sent, by manager</figcaption></figure>` +
        table(
          'Managers',
          [
            ['Manager', false],
            ['Learners', true],
            ['Done / due', true],
            ['Reply rate', true],
            ['Digests sent', true],
            ['Replies', true],
            ['Last engaged', false],
          ],
          report.managers.map(
            (m) =>
              `<tr><th scope="row">${e(m.name)}</th>${cell(String(m.learners), 'num')}` +
              `${cell(`${m.done} / ${m.due}`, 'num')}${cell(formatPercent(m.replyRate), 'num')}` +
              `${cell(String(m.digestsSent), 'num')}${cell(String(m.replies), 'num')}` +
              `${cell(formatDay(m.lastEngagementAt), 'day')}</tr>`,
          ),
        );

  const learners = table(
    'Learners',
    [
      ['Learner', false],
      ['Email', false],
      ['Programme', false],
      ['Week', true],
      ['Done / due', true],
      ['Last reply', false],
      ['Status', false],
      ['Flags', false],
    ],
    report.learners.map((l) => {
      const flags = describeFlags(l)
        .split(', ')
        .filter((f) => f !== '')
        .map((f) => `<span class="flag">${e(f)}</span>`)
        .join('');
      return (
        `<tr><th scope="row">${e(l.name)}</th>${cell(l.email)}${cell(l.programme)}` +
        `${cell(String(l.currentWeek), 'num')}${cell(`${l.done} / ${l.due}`, 'num')}` +
        `${cell(formatDay(l.lastReplyAt), 'day')}${cell(statusLabel(l))}<td>${flags}</td></tr>`
      );
    }),
  );

  const empty =
    totals.learners === 0
      ? '<p>No learners yet: enrol a cohort with <code>gym enrol FILE.csv</code>.</p>'
      : '';

  return `<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${e(`Digital Gym report: ${scope}`)}</title>
<style>${styles}</style>
</head>
<body>
<main>
<h1>Digital Gym report</h1>
<p class="meta">${e(`${scope}; generated ${generated}; dates are UTC`)}</p>
${empty}
<section aria-labelledby="summary"><h2 id="summary">Summary</h2><dl class="totals">${summary}</dl></section>
${needsTrainerSection(report)}
<section aria-labelledby="programmes"><h2 id="programmes">Programmes</h2>${programmes.join('\n')}</section>
<section aria-labelledby="managers"><h2 id="managers">Managers</h2>${managers}</section>
<section aria-labelledby="learners"><h2 id="learners">Learners</h2>${learners}</section>
</main>
</body>
</html>
`;
}

/** The replies that asked for a person, with the learner's words; nothing when there are none. */
function needsTrainerSection(report: Report): string {
  if (report.needsTrainer.length === 0) return '';
  const items = report.needsTrainer.map((n) => {
    const week = n.week === null ? '' : `, week ${n.week}`;
    const words =
      n.words.trim() === '' ? '' : `<blockquote>${escapeHtml(n.words.slice(0, 500))}</blockquote>`;
    return `<li>${escapeHtml(`${formatDay(n.occurredAt)} ${n.name} <${n.email}> ${needsTrainerLabel(n.kind)}${week}`)}${words}</li>`;
  });
  return `<section aria-labelledby="needs-trainer"><h2 id="needs-trainer">Needs the trainer</h2><ul>${items.join('')}</ul></section>`;
}
