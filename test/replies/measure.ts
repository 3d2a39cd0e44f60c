/**
 * How well the reply reader reads the natural-phrasing corpus (test/fixtures/corpora/natural):
 * per language and per intent, cases / right / accuracy, then every miss; then how well it finds
 * the learner's own words on the public reply-parsing corpora, per source. Not a test: the floors
 * live in natural-corpus.test.ts and public-corpora.test.ts. Run it with
 *
 *   npm run measure:replies            # tables and misses
 *   npm run measure:replies -- --json  # the same as JSON
 *   npm run measure:replies -- --eml DIR   # also write each case's .eml (lang-N.eml) to DIR,
 *                                          # to feed one to `gym reply inspect DIR/en-3.eml --json`
 */
/* eslint-disable no-console -- a measurement script: printing the numbers is its job */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  accuracy,
  caseEml,
  category,
  intentTypes,
  languages,
  loadCorpus,
  scoreCorpus,
  tally,
  type Tally,
} from './natural-corpus.js';
import { publicCases, scoreVisible } from './visible-corpus.js';

const corpus = loadCorpus();
const emlIndex = process.argv.indexOf('--eml');
if (emlIndex !== -1) {
  const dir = process.argv[emlIndex + 1];
  if (dir === undefined || dir.startsWith('--')) {
    console.error('measure:replies: --eml needs a directory to write the .eml files to');
    process.exit(1);
  }
  mkdirSync(dir, { recursive: true });
  for (const cases of corpus.values())
    for (const c of cases) writeFileSync(join(dir, `${c.lang}-${c.index}.eml`), caseEml(c));
}
const outcomes = await scoreCorpus(corpus);
const byLang = tally(outcomes, (o) => o.case.lang);
const byIntent = tally(outcomes, (o) => category(o.case));
const overall = tally(outcomes, () => 'all').get('all') ?? { cases: 0, right: 0 };
const misses = outcomes.filter((o) => !o.right);
const leaks = outcomes.filter((o) => o.quoteLeaked);
const intentOrder = [...intentTypes, 'auto_reply'];

// Visible text on the public corpora, per source (talon, discourse, willdurand, zapier, crisp).
const visibleOutcomes = await scoreVisible(publicCases());
const visibleBySource = new Map<string, Tally>();
for (const o of visibleOutcomes) {
  const t = visibleBySource.get(o.case.source) ?? { cases: 0, right: 0 };
  visibleBySource.set(o.case.source, { cases: t.cases + 1, right: t.right + (o.right ? 1 : 0) });
}
const visibleOverall: Tally = {
  cases: visibleOutcomes.length,
  right: visibleOutcomes.filter((o) => o.right).length,
};
const visibleMisses = visibleOutcomes.filter((o) => !o.right);

const pct = (t: Tally) => `${(accuracy(t) * 100).toFixed(1)}%`;
const round = (t: Tally) => ({ ...t, accuracy: Math.round(accuracy(t) * 1000) / 1000 });

if (process.argv.includes('--json')) {
  const grid = Object.fromEntries(
    languages.map((lang) => [
      lang,
      Object.fromEntries(
        [
          ...tally(
            outcomes.filter((o) => o.case.lang === lang),
            (o) => category(o.case),
          ),
        ].map(([k, t]) => [k, round(t)]),
      ),
    ]),
  );
  console.log(
    JSON.stringify(
      {
        overall: round(overall),
        byLanguage: Object.fromEntries(
          languages.map((l) => [l, round(byLang.get(l) ?? { cases: 0, right: 0 })]),
        ),
        byIntent: Object.fromEntries(
          intentOrder.map((i) => [i, round(byIntent.get(i) ?? { cases: 0, right: 0 })]),
        ),
        byLanguageAndIntent: grid,
        visibleText: {
          overall: round(visibleOverall),
          bySource: Object.fromEntries([...visibleBySource].map(([k, t]) => [k, round(t)])),
          misses: visibleMisses.map((o) => ({
            source: o.case.source,
            case: o.case.name,
            expected: o.case.expected,
            got: o.got,
          })),
        },
        quoteLeaks: leaks.map((o) => ({
          lang: o.case.lang,
          case: o.case.index,
          client: o.case.client,
        })),
        misses: misses.map((o) => ({
          lang: o.case.lang,
          case: o.case.index,
          client: o.case.client,
          expected: o.expected,
          got: o.got,
          text: o.case.text,
        })),
      },
      null,
      2,
    ),
  );
} else {
  const row = (label: string, t: Tally) =>
    `${label.padEnd(12)} ${String(t.cases).padStart(5)} ${String(t.right).padStart(5)} ${pct(t).padStart(8)}`;
  const header = `${''.padEnd(12)} ${'cases'.padStart(5)} ${'right'.padStart(5)} ${'accuracy'.padStart(8)}`;
  console.log('By language');
  console.log(header);
  for (const lang of languages) console.log(row(lang, byLang.get(lang) ?? { cases: 0, right: 0 }));
  console.log(`\nBy intent`);
  console.log(header);
  for (const intent of intentOrder)
    console.log(row(intent, byIntent.get(intent) ?? { cases: 0, right: 0 }));
  console.log(`\n${row('overall', overall)}`);
  console.log(`\nQuoted original left in the visible text: ${leaks.length} case(s)`);
  for (const o of leaks) console.log(`  ${o.case.lang} #${o.case.index} (${o.case.client})`);
  console.log(`\nMisses (${misses.length})`);
  for (const o of misses) {
    const text = o.case.text.replace(/\s+/g, ' ').trim();
    console.log(
      `  ${o.case.lang} #${String(o.case.index).padEnd(3)} ${o.expected.padEnd(22)} got ${o.got.padEnd(22)} ${JSON.stringify(text.length > 90 ? `${text.slice(0, 87)}...` : text)}`,
    );
  }
}

if (!process.argv.includes('--json')) {
  const row = (label: string, t: Tally) =>
    `${label.padEnd(36)} ${String(t.cases).padStart(5)} ${String(t.right).padStart(5)} ${pct(t).padStart(8)}`;
  console.log(`\nVisible text on the public corpora (learner's words exactly right)`);
  console.log(
    `${''.padEnd(36)} ${'cases'.padStart(5)} ${'right'.padStart(5)} ${'accuracy'.padStart(8)}`,
  );
  for (const [source, t] of visibleBySource) console.log(row(source, t));
  console.log(row('overall', visibleOverall));
  for (const o of visibleMisses) {
    const got = o.got.replace(/\s+/g, ' ').trim();
    console.log(`  miss ${o.case.source}/${o.case.name}: got ${JSON.stringify(got.slice(0, 90))}`);
  }
}
