import { htmlLang, type LanguagePreference } from '../language/languages.js';
import { describeQuestion, exampleReply } from '../render/intake.js';
import type { LoadedProgramme } from './load.js';
import type { PreviewItem, ProgrammePreview } from './programme-preview.js';

/** The trainer's preview pages: plain HTML strings, no framework, nothing fetched from outside. */

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const style = `
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #0b0c0c; background: #f3f2f1; }
  header { background: #1d3557; color: #fff; padding: 16px 24px; }
  header a { color: #fff; }
  nav.languages { margin: 8px 0 0; }
  main { max-width: 1100px; margin: 0 auto; padding: 8px 24px 48px; }
  nav.weeks { display: flex; flex-wrap: wrap; gap: 6px; margin: 16px 0; }
  nav.weeks a { background: #fff; border: 1px solid #b1b4b6; padding: 2px 10px; border-radius: 4px; text-decoration: none; color: #1d3557; }
  section.week { background: #fff; border: 1px solid #b1b4b6; border-radius: 6px; margin: 24px 0; padding: 8px 20px 16px; }
  .manager-tip { background: #fff7bf; border-left: 4px solid #ffdd00; padding: 8px 12px; margin: 8px 0 16px; }
  article { border-top: 1px solid #d8d8d8; padding: 12px 0; }
  .meta { color: #505a5f; font-size: 14px; }
  iframe { width: 100%; height: 560px; border: 1px solid #d8d8d8; background: #fff; }
  pre { white-space: pre-wrap; background: #f8f8f8; padding: 12px; border: 1px solid #e0e0e0; font-size: 13px; }
  .problems { background: #fff; border-left: 6px solid #d4351c; padding: 8px 16px; }
  .problems li { font-family: ui-monospace, monospace; font-size: 14px; }
  .ok { color: #00703c; }
`;

// The page reloads itself when the server says a file changed (Server-Sent Events).
const liveReload = `<script>new EventSource('/events').addEventListener('reload', () => location.reload());</script>`;

function document(title: string, version: number, body: string): string {
  return `<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="gym-version" content="${version}">
<title>${escapeHtml(title)} · Digital Gym preview</title>
<style>${style}</style>
</head>
<body>
${body}
${liveReload}
</body>
</html>`;
}

function problemList(programme: Extract<LoadedProgramme, { ok: false }>): string {
  return `<div class="problems" role="alert"><h2>${escapeHtml(programme.path)} has problems</h2><ul>${programme.problems
    .map((p) => `<li>${escapeHtml(p)}</li>`)
    .join('')}</ul><p>Fix the file and save: this page reloads by itself.</p></div>`;
}

/** `/`: every programme found, the valid ones linked, the broken ones with their problems. */
export function indexPage(programmes: readonly LoadedProgramme[], version: number): string {
  const rows = programmes.map((p) =>
    p.ok
      ? `<li><a href="/p/${encodeURIComponent(p.sequence.id)}">${escapeHtml(p.sequence.title)}</a> <span class="meta">${escapeHtml(p.path)} · ${p.hash.slice(0, 19)}</span> <span class="ok">valid</span></li>`
      : `<li>${problemList(p)}</li>`,
  );
  return document(
    'Programmes',
    version,
    `<header><h1>Digital Gym preview</h1></header><main><h2>Programmes</h2><ul>${rows.join('')}</ul></main>`,
  );
}

/** The languages a programme's preview can switch between, and the one shown (#15). */
export interface PreviewLanguages {
  readonly current: LanguagePreference;
  readonly offered: readonly LanguagePreference[];
}

const languageLabels: Record<LanguagePreference, string> = {
  cy: 'Cymraeg (cy)',
  en: 'English (en)',
  'cy+en': 'Cymraeg a Saesneg / Welsh and English (cy+en)',
};

/** "?lang=cy%2Ben": what each link of a page in one language carries. */
const langQuery = (language: LanguagePreference | undefined) =>
  language === undefined ? '' : `?lang=${encodeURIComponent(language)}`;

/** The switch: a link per language the programme offers, the current one marked. */
function languageSwitch(programmeId: string, languages: PreviewLanguages | undefined): string {
  if (languages === undefined || languages.offered.length < 2) return '';
  const links = languages.offered.map((l) =>
    l === languages.current
      ? `<strong aria-current="page" lang="${htmlLang(l)}">${escapeHtml(languageLabels[l])}</strong>`
      : `<a href="/p/${encodeURIComponent(programmeId)}${langQuery(l)}" hreflang="${htmlLang(l)}" lang="${htmlLang(l)}">${escapeHtml(languageLabels[l])}</a>`,
  );
  return `<nav class="languages" aria-label="Language">Language: ${links.join(' · ')}</nav>`;
}

function itemArticle(
  programmeId: string,
  item: PreviewItem,
  language?: LanguagePreference,
): string {
  const base = `/p/${encodeURIComponent(programmeId)}/${item.fileName.replace(/\.eml$/, '')}`;
  const query = langQuery(language);
  const condition = item.condition ? ` · <em>${escapeHtml(item.condition)}</em>` : '';
  if (item.kind === 'email') {
    return `<article class="email" id="w${item.week}-${escapeHtml(item.stepId)}">
<h3>✉ ${escapeHtml(item.email.subject)}</h3>
<p class="meta">${escapeHtml(item.when)} · step “${escapeHtml(item.stepId)}”${condition} · preheader: ${escapeHtml(item.email.preheader)}</p>
<iframe title="${escapeHtml(item.email.subject)}" src="${base}.html${query}" loading="lazy" sandbox></iframe>
<details><summary>Plain-text version</summary><pre>${escapeHtml(item.email.text)}</pre></details>
</article>`;
  }
  return `<article class="invite" id="w${item.week}-${escapeHtml(item.stepId)}">
<h3>📅 ${escapeHtml(item.title)}</h3>
<p class="meta">${escapeHtml(item.when)} · ${item.durationMinutes} minutes${item.location ? ` · ${escapeHtml(item.location)}` : ''} · step “${escapeHtml(item.stepId)}”${condition} · <a href="${base}.ics${query}">invite.ics</a></p>
<pre>${escapeHtml(item.description)}</pre>
</article>`;
}

/** `/p/ID`: the twelve weeks of one programme, every email and invite, for the sample learner. */
export function programmePage(
  preview: ProgrammePreview,
  version: number,
  languages?: PreviewLanguages,
): string {
  // Links carry the language only when there is a choice, so single-language pages stay as they were.
  const language =
    languages !== undefined && languages.offered.length > 1 ? languages.current : undefined;
  const { learner, manager } = preview.sample;
  const who = `${learner.first_name} ${learner.last_name} (${learner.role ?? 'no role'}, ${learner.organisation ?? 'no organisation'}, ${learner.time_zone})${manager ? `, managed by ${manager.name}` : ''}`;
  const nav = preview.weeks.map((w) => `<a href="#week-${w.number}">Week ${w.number}</a>`).join('');
  const email = (id: string, subject: string) =>
    `<article class="email"><h3>✉ ${escapeHtml(subject)}</h3><iframe title="${escapeHtml(subject)}" src="/p/${encodeURIComponent(preview.id)}/${id}.html${langQuery(language)}" loading="lazy" sandbox></iframe></article>`;
  const weeks = preview.weeks.map(
    (week) => `<section class="week" id="week-${week.number}">
<h2>Week ${week.number}: ${escapeHtml(week.theme)}</h2>
<p class="manager-tip"><strong>Manager tip:</strong> ${escapeHtml(week.managerTip)}</p>
${week.items.map((item) => itemArticle(preview.id, item, language)).join('\n')}
</section>`,
  );
  return document(
    preview.title,
    version,
    `<header><a href="/">All programmes</a><h1>${escapeHtml(preview.title)}</h1>
<p>As ${escapeHtml(who)}, starting ${escapeHtml(preview.startsOn)} · version ${escapeHtml(preview.hash.slice(0, 19))}</p>${languageSwitch(preview.id, languages)}</header>
<main><nav class="weeks" aria-label="Weeks">${nav}</nav>
<section class="week" id="welcome"><h2>Before week 1</h2>
<p class="when">Welcome email: ${escapeHtml(preview.times.welcome)} (the working day before week 1, or the learner’s next morning if enrolled later)</p>
${preview.times.introduction === '' ? '' : `<p class="when">Manager introduction: ${escapeHtml(preview.times.introduction)} (before the first digest)</p>`}
${intakeList(preview)}${email('welcome', preview.welcome.subject)}</section>
${weeks.join('\n')}
<section class="week" id="end"><h2>After week ${preview.weeks.length}</h2>
<p class="when">Programme-end email: ${escapeHtml(preview.times.end)}</p>
${email('end', preview.end.subject)}</section>
</main>`,
  );
}

/** The intake questions the welcome asks, and what each answer sets, for the trainer. */
function intakeList(preview: ProgrammePreview): string {
  if (preview.intake.length === 0) return '';
  const items = preview.intake.map((q) => `<li>${escapeHtml(describeQuestion(q))}</li>`).join('');
  return `<article class="intake" id="intake"><h3>Intake questions (asked in the welcome; answers before week 1 may change the programme)</h3><ol>${items}</ol><p class="meta">Example reply: ${escapeHtml(exampleReply(preview.intake))}</p></article>`;
}

/** A programme that does not load shows its problems where the weeks would be. */
export function brokenProgrammePage(
  programme: Extract<LoadedProgramme, { ok: false }>,
  version: number,
): string {
  return document(
    programme.path,
    version,
    `<header><a href="/">All programmes</a></header><main>${problemList(programme)}</main>`,
  );
}
