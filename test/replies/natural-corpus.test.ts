/**
 * The natural-phrasing corpus (test/fixtures/corpora/natural) as a measuring stick for the reply
 * reader: the corpus is well formed, no command is ever taken from quoted text, and accuracy
 * never falls below the floor measured when the corpus was written. `npm run measure:replies`
 * prints the full table and the misses; this file deliberately does not pin which cases miss,
 * so that work on the reader (issue #12) only has to raise the floor.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  accuracy,
  clients,
  corpusDir,
  describeIntent,
  intentTypes,
  languages,
  loadCorpus,
  parseCorpusFile,
  readCase,
  scoreCorpus,
  tally,
  type Case,
} from './natural-corpus.js';

/**
 * Overall accuracy: 113 of 319 (35.4%) before the #12 reader work; 562 of 563 (99.8%) after it,
 * rounded down to a whole percent. The one miss is a Welsh empty reply whose quote header the
 * visible-text reader does not know yet (see knownFailures). Raise it when the reader gets
 * better; never lower it to make a change pass.
 */
const accuracyFloor = 0.99;
/** Every language, Welsh included, reads at least this much of its own cases right (#12). */
const languageFloor = 0.95;

const corpus = loadCorpus();
const allCases = languages.flatMap((lang) => corpus.get(lang) ?? []);

describe('the natural-phrasing corpus is well formed', () => {
  it('has a file for every language, and nothing else', () => {
    const files = readdirSync(corpusDir).filter((f) => f.endsWith('.yaml'));
    expect(files.sort()).toEqual(languages.map((l) => `${l}.yaml`).sort());
  });

  it.each(languages)(
    '%s covers every intent and has hand-written out-of-office replies',
    (lang) => {
      const cases = corpus.get(lang) ?? [];
      const covered = new Set(cases.map((c) => c.expected?.type).filter((t) => t !== undefined));
      expect([...intentTypes].filter((t) => !covered.has(t))).toEqual([]);
      expect(cases.filter((c) => c.kind === 'auto_reply').length).toBeGreaterThanOrEqual(1);
      // Enough cases to say something per language: ~40 English, 15-25 for the others.
      expect(cases.length).toBeGreaterThanOrEqual(lang === 'en' ? 40 : 15);
    },
  );

  it('gives every pause case a length, a real date after the day it was sent', () => {
    const pauses = allCases.filter((c) => c.expected?.type === 'pause');
    expect(pauses.length).toBeGreaterThan(languages.length);
    for (const c of pauses) {
      if (c.expected?.type !== 'pause') continue;
      const { weeks, until } = c.expected;
      expect(weeks !== undefined || until !== undefined, `${c.lang} #${c.index}`).toBe(true);
      if (until !== undefined) {
        expect(Number.isNaN(Date.parse(`${until}T00:00:00Z`)), `${c.lang} #${c.index}`).toBe(false);
        expect(until > c.sent.slice(0, 10), `${c.lang} #${c.index}`).toBe(true);
      }
    }
  });

  it('uses every client style, and quotes with decoy commands in every language', () => {
    expect(new Set(allCases.map((c) => c.client))).toEqual(new Set(clients));
    for (const lang of languages) {
      const decoyed = (corpus.get(lang) ?? []).filter((c) => c.quoted?.decoys === true);
      expect(decoyed.length, lang).toBeGreaterThanOrEqual(3);
    }
  });

  it('rejects a malformed case, naming the file and the field', () => {
    const file = (cases: string) =>
      `lang: en\nsent: 2027-03-01T09:00:00Z\ntimeZone: Europe/London\nsubject: 'Re: x'\n` +
      `learner: Sam\nquotes: {}\ncases:\n${cases}`;
    expect(() => parseCorpusFile('en.yaml', file('  - text: pause\n    intent: pause\n'))).toThrow(
      /en\.yaml: not a valid corpus file:\n {2}cases\.0: a pause case needs exactly one of weeks or until/,
    );
    expect(() => parseCorpusFile('en.yaml', file('  - text: hi\n    intent: bored\n'))).toThrow(
      /cases\.0\.intent/,
    );
    expect(() =>
      parseCorpusFile('en.yaml', file('  - text: done\n    intent: done\n    quoted: nope\n')),
    ).toThrow(/cases\.0\.quoted: no quote "nope"/);
  });
});

describe('no command is taken from quoted text', () => {
  // Every human case, as each client would quote our email with its "Done / Pause a week / Too
  // hard" buttons and "Reply STOP" line below it, must read exactly as the same words without the
  // quote. The language's decoy quote is used as written; the sweep over all five clients makes
  // the property independent of which client a case happens to name.
  const decoyed = allCases.flatMap((c): Case[] => {
    if (c.kind !== 'reply') return [];
    const file = corpus.get(c.lang) ?? [];
    const quote = file.find((other) => other.quoted?.decoys === true)?.quoted;
    if (quote === undefined) return [];
    return clients.map((client) => ({ ...c, client, quoted: quote }));
  });
  const id = (c: Case) => `${c.lang} #${c.index} ${c.client}`;

  /**
   * The cases the reader used to miss (Dutch Apple Mail's "Op ... heeft ... het volgende
   * geschreven:" header; Welsh Gmail, Outlook, Apple Mail and Thunderbird quoting), where a reply
   * of stars only or of nothing at all read as a reflection with the header in its text. They
   * are in the sweep below like every other case, and named here so that a regression says which.
   */
  const formerlyMisread = [
    'nl #20 apple',
    'nl #24 apple',
    'cy #13 gmail',
    'cy #13 outlook',
    'cy #13 apple',
    'cy #13 thunderbird',
    'cy #17 gmail',
    'cy #17 outlook',
    'cy #17 apple',
    'cy #17 thunderbird',
  ];

  const readBoth = async (c: Case) => {
    const alone = await readCase(c, { withQuote: false });
    const quoted = await readCase(c, { withQuote: true });
    const show = (r: typeof alone) => (r.kind === 'reply' ? describeIntent(r.intent) : r.kind);
    return {
      alone: show(alone),
      quoted: show(quoted),
      aloneType: alone.intent?.type,
      quotedType: quoted.intent?.type,
    };
  };

  it.each(languages)('%s: a quote under the reply never changes its reading', async (lang) => {
    const cases = decoyed.filter((c) => c.lang === lang);
    expect(cases.length).toBeGreaterThan(0);
    const differ: string[] = [];
    for (const c of cases) {
      const read = await readBoth(c);
      if (read.quoted !== read.alone)
        differ.push(
          `${id(c)}: alone ${read.alone}, with the quote ${read.quoted}: ${JSON.stringify(c.text)}`,
        );
    }
    expect(differ).toEqual([]);
  });

  it.each(languages)('%s: a quote under the reply never adds a command', async (lang) => {
    const commands = new Set<string>(
      intentTypes.filter((t) => t !== 'reflection' && t !== 'empty'),
    );
    const taken: string[] = [];
    for (const c of decoyed.filter((d) => d.lang === lang)) {
      const read = await readBoth(c);
      if (
        read.quotedType !== undefined &&
        commands.has(read.quotedType) &&
        read.quoted !== read.alone
      )
        taken.push(`${id(c)}: alone ${read.alone}, with the quote ${read.quoted}`);
    }
    expect(taken).toEqual([]);
  });

  it.each(formerlyMisread)('%s reads the same with the quote as without it', async (key) => {
    const c = decoyed.find((d) => id(d) === key);
    expect(c, `no case ${key} in the corpus`).toBeDefined();
    if (c === undefined) return;
    const read = await readBoth(c);
    expect(read.quoted).toBe(read.alone);
    // Stars only, or nothing: the quote header must not be left behind as a reflection.
    expect(read.quotedType).not.toBe('reflection');
  });
});

describe('accuracy on natural phrasing', () => {
  it(`reads at least ${accuracyFloor * 100}% of the corpus right (intent, pause length, rating, kind)`, async () => {
    const outcomes = await scoreCorpus(corpus);
    expect(outcomes.length).toBe(allCases.length);
    const overall = tally(outcomes, () => 'all').get('all');
    expect(overall).toBeDefined();
    expect(accuracy(overall ?? { cases: 0, right: 0 })).toBeGreaterThanOrEqual(accuracyFloor);
  });

  it.each(languages)(
    `%s: reads at least ${languageFloor * 100}% of its cases right`,
    async (lang) => {
      const outcomes = await scoreCorpus(new Map([[lang, corpus.get(lang) ?? []]]));
      const t = tally(outcomes, () => 'all').get('all') ?? { cases: 0, right: 0 };
      const misses = outcomes
        .filter((o) => !o.right)
        .map((o) => `#${o.case.index} ${o.expected} got ${o.got}`);
      expect(accuracy(t), misses.join('\n')).toBeGreaterThanOrEqual(languageFloor);
    },
  );

  it('never reads a hand-written out-of-office as a stop', async () => {
    const outOfOffice = allCases.filter((c) => c.kind === 'auto_reply');
    expect(outOfOffice.length).toBeGreaterThanOrEqual(languages.length);
    for (const c of outOfOffice) {
      const read = await readCase(c);
      expect(read.intent?.type, `${c.lang} #${c.index}: ${c.text}`).not.toBe('stop');
    }
  });
});
