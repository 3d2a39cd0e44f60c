import type { Intent, IntentConfidence } from '../types.js';
import { commandLine, commandMeansUnsubscribe, readCommand } from './commands.js';
import { findPauseLength, today } from './dates.js';
import { phraseTables } from './phrases/index.js';
import type { Family, PhraseTable } from './phrases/types.js';
import { normalise } from './text.js';

/**
 * How a reading is made from a reply's visible text (quoted history already removed):
 *
 * 1. **The command line.** A reply that starts with a command ("Done", "Pause until 3 Jan",
 *    "Stop", "Hepgor yr wythnos hon") is read by ./commands.ts from its first line: that reading
 *    is clear.
 * 2. **The opening sentences.** Otherwise the first few sentences after any greeting are read
 *    for the phrase families of every language (./phrases/<lang>.ts): completion in other words
 *    ("all sorted", "ticked that one off"), being lost ("out of my depth"), "how do I…?", an
 *    absence and a request to hold off, "back now", "remove me", a rating in words or stars.
 *    The earliest phrase that is not negated ("not done yet", "don't stop") wins.
 * 3. **Stop and unsubscribe anywhere.** A stop or unsubscribe phrase anywhere in the reply,
 *    not negated, makes it a stop, however the rest reads: it is better to ask than to keep
 *    writing to someone who asked us to stop.
 *
 * Confidence: a command that would change the programme (stop, pause, skip, resume) is
 * `probable`, not `clear`, when it is hedged ("maybe pause?", "I think I might need to drop
 * out"), when it is not in the opening sentence, or when it is only implied (an absence with no
 * request: "I'm off sick this week"). The engine asks before acting on a probable reading.
 */
export interface IntentReading {
  readonly intent: Intent;
  readonly confidence: IntentConfidence;
  /** The language the reply is written in (`en`, `cy`, ...), when the reader could tell. */
  readonly language: string | undefined;
}

export interface ReadOptions {
  readonly sentAt: Date;
  readonly timeZone?: string | undefined;
}

/** Intents that change the learner's programme: never acted on silently when only probable. */
const changesProgramme = new Set<Intent['type']>(['stop', 'pause', 'skip', 'resume']);

/** How many opening sentences a command may be read from. */
const openingSentences = 3;

interface Hit {
  readonly family: Family;
  readonly lang: string;
  /** Which sentence, 0 first. */
  readonly sentence: number;
  readonly index: number;
  readonly length: number;
  readonly negated: boolean;
  readonly hedged: boolean;
  /** The words before the phrase in its clause, where a negation would stand. */
  readonly clause: string;
  /** Said as something that did not happen: "I was going to skip it". */
  readonly counterfactual: boolean;
}

interface CompiledTable {
  readonly table: PhraseTable;
  /** Every phrase of every family, as alternatives of a regular expression. */
  readonly anyPhrase: string;
  readonly anyFamily: RegExp;
  /** `anyFamily` over sentences joined by line breaks (see `anyFamilyInLines` in `compile`). */
  readonly anyFamilyInLines: RegExp;
  readonly families: readonly (readonly [Family, RegExp])[];
  readonly negation: RegExp;
  readonly counterfactual: RegExp | undefined;
  readonly hedge: RegExp;
  readonly greeting: RegExp;
  readonly markers: ReadonlySet<string>;
  readonly stars: RegExp;
  readonly outOf: RegExp;
  readonly give: RegExp | undefined;
}

/** "but" in every language: what follows it takes back what came before. */
const turnedRound =
  /(?:^|[^\p{L}])(?:but|though|although|however|aber|doch|mais|pero|ma|mas|maar|men|mutta|ond|mens)(?![\p{L}])[^.!?]*(?:got|managed|figured|worked|fine|ok|okay|sorted|helped|gelukt|geschafft|klappt|reussi|compris|entendi|capito|consegui|klarade|klarte|onnistui|deall|llwyddo|iawn)/u;

const boundaryStart = String.raw`(?<![\p{L}\p{N}])`;
const boundaryEnd = String.raw`(?![\p{L}\p{N}])`;

function compile(table: PhraseTable): CompiledTable {
  const alternatives = (list: readonly string[]) => list.map((p) => `(?:${p})`).join('|');
  const anyPhrase = Object.values<readonly string[]>(table.families).map(alternatives).join('|');
  return {
    table,
    anyPhrase,
    // Any phrase of any family: a sentence without one is not scanned family by family.
    anyFamily: new RegExp(`${boundaryStart}(?:${anyPhrase})${boundaryEnd}`, 'u'),
    // The same, for sentences joined by "\n" (a normalised sentence has no line break): with
    // `m`, `^` and `$` hold at each sentence's start and end, and a line break is no letter or
    // digit, so the boundaries hold there too; the tables' negative look-arounds ask for
    // letters or a plain space ("(?! to)"), never a line break. So whatever `anyFamily` finds
    // in one sentence, this finds in the joined text, and hitsIn may use it to pick the
    // languages to look for sentence by sentence. (A new look-around on white space in a table
    // would break that; the verdict snapshot test would show it.)
    anyFamilyInLines: new RegExp(`${boundaryStart}(?:${anyPhrase})${boundaryEnd}`, 'mu'),
    families: (Object.entries(table.families) as [Family, readonly string[]][]).map(
      ([family, list]) =>
        [
          family,
          new RegExp(`${boundaryStart}(?:${alternatives(list)})${boundaryEnd}`, 'gu'),
        ] as const,
    ),
    // A negation a few words before a phrase, in the same clause.
    negation: new RegExp(
      String.raw`(?:^|[^\p{L}'])(?:${alternatives(table.negations)})(?:[\s'][^\s,.;:!?]*){0,3}\s*$`,
      'u',
    ),
    counterfactual:
      table.counterfactuals === undefined
        ? undefined
        : new RegExp(
            String.raw`(?:^|[^\p{L}'])(?:${alternatives(table.counterfactuals)})(?:[\s'][^\s,.;:!?]*){0,3}\s*$`,
            'u',
          ),
    hedge: new RegExp(`${boundaryStart}(?:${alternatives(table.hedges)})${boundaryEnd}`, 'u'),
    greeting: new RegExp(
      String.raw`^(?:${alternatives(table.greetings)})${boundaryEnd}[^.!?]{0,30}[,!.]?$`,
      'u',
    ),
    markers: new Set(table.markers),
    stars: new RegExp(
      String.raw`${boundaryStart}(\d{1,2}|${Object.keys(table.dates.numbers).join('|')})\s*(?:${table.rating.stars})${boundaryEnd}`,
      'u',
    ),
    outOf: new RegExp(
      String.raw`${boundaryStart}(\d{1,2})(?:[.,]5)?\s*(?:${table.rating.outOf})\s*(5|10)${boundaryEnd}`,
      'u',
    ),
    give:
      table.rating.give === undefined
        ? undefined
        : new RegExp(
            String.raw`${boundaryStart}(?:${table.rating.give})\s*(?:[:=-]\s*)?(?:an?\s+|un\s+|una\s+|um\s+)?(\d{1,2})${boundaryEnd}(?=\s*(?:$|[.!,;)]|stars?|[^\p{L}\p{N}\s]))`,
            'u',
          ),
  };
}

const compiled = phraseTables.map(compile);

/**
 * The languages' `anyFamilyInLines` joined a few at a time (#17): one pass finds whether any
 * language of a group has a phrase in the text (some alternative of one of them matches, between
 * the same boundaries), and most replies have none. A pattern is kept under V8's size for
 * optimised regular expressions (20 KB of source), past which it is many times slower.
 */
const languageGroups = ((): { anyFamilyInLines: RegExp; members: CompiledTable[] }[] => {
  const budget = 12_000;
  const groups: CompiledTable[][] = [];
  let size = Infinity;
  for (const c of compiled) {
    if (size + c.anyPhrase.length > budget) {
      groups.push([]);
      size = 0;
    }
    groups.at(-1)?.push(c);
    size += c.anyPhrase.length;
  }
  return groups.map((members) => ({
    anyFamilyInLines: new RegExp(
      `${boundaryStart}(?:${members.map((c) => c.anyPhrase).join('|')})${boundaryEnd}`,
      'mu',
    ),
    members,
  }));
})();

/**
 * The languages with a phrase in `joined` (sentences joined by line breaks), in table order: the
 * groups are the tables in order, a few at a time.
 */
function languagesIn(joined: string): CompiledTable[] {
  const found: CompiledTable[] = [];
  for (const group of languageGroups) {
    if (!group.anyFamilyInLines.test(joined)) continue;
    for (const c of group.members)
      if (group.members.length === 1 || c.anyFamilyInLines.test(joined)) found.push(c);
  }
  return found;
}

/**
 * Every language's negations but the words that are something else in another language ("en" is
 * "not" in Finnish and "in" in Swedish, "na" is "not" in Welsh and "in the" in Portuguese).
 */
const ambiguousNegations = new Set(['en', 'na', 'ei', 'ne', 'nid', 'nac', 'heb']);
const anyNegation = new RegExp(
  String.raw`(?:^|[^\p{L}'])(?:${[
    ...new Set(phraseTables.flatMap((t) => t.negations).filter((n) => !ambiguousNegations.has(n))),
  ]
    .map((n) => `(?:${n})`)
    .join('|')})(?:[\s'][^\s,.;:!?]*){0,3}\s*$`,
  'u',
);

/** The tables write "æ" as "ae", "ø" as "o" and "ß" as "ss": read the reply the same way. */
function foldLetters(line: string): string {
  return line.replace(/æ/g, 'ae').replace(/ø/g, 'o').replace(/ß/g, 'ss');
}

/** The reply's sentences after any greeting, normalised, in order; each at most 400 characters. */
function sentencesOf(text: string): string[] {
  const raw = text
    .slice(0, 8192)
    .split(/\r\n|\r|\n/)
    .map((line) => foldLetters(normalise(line)));
  const paragraphs: string[][] = [[]];
  for (const line of raw) {
    if (line === '') paragraphs.push([]);
    else paragraphs.at(-1)?.push(line);
  }
  const first = paragraphs.find((p) => p.length > 0);
  // A greeting line ("Hi Sam,") is passed over when more follows it.
  const opener = first?.[0];
  if (
    first !== undefined &&
    opener !== undefined &&
    compiled.some((c) => c.greeting.test(opener)) &&
    paragraphs.reduce((n, p) => n + p.length, 0) > 1
  )
    first.shift();
  // Lines wrapped by the mail client are one sentence: a line ends a sentence only with its
  // punctuation, or when it is the last of its paragraph. (A date's "15." does not end one.)
  const sentences: string[] = [];
  for (const paragraph of paragraphs) {
    for (const part of paragraph.join(' ').split(/(?<=[^\d\s][.!?…]|[!?…])\s+(?=\S)/u)) {
      if (part.trim() !== '') sentences.push(part.trim().slice(0, 400));
    }
  }
  return sentences;
}

function hitsIn(sentences: readonly string[], from: number, to: number): Hit[] {
  const hits: Hit[] = [];
  const end = Math.min(to, sentences.length);
  // The languages with a phrase anywhere in these sentences, found with one scan of them all
  // rather than one per sentence (#17); only those are then scanned sentence by sentence.
  const present = end > from ? languagesIn(sentences.slice(from, end).join('\n')) : [];
  for (let s = from; s < end; s++) {
    const sentence = sentences[s] ?? '';
    for (const c of present) {
      // The same hits, found sooner: most sentences hold no phrase of most languages.
      if (!c.anyFamily.test(sentence)) continue;
      // A hedge is the sentence's, not the phrase's: looked for once per sentence.
      let hedged: boolean | undefined;
      for (const [family, pattern] of c.families) {
        for (const match of sentence.matchAll(pattern)) {
          const before = sentence.slice(0, match.index);
          // The clause the phrase is in: from the last comma, semicolon or "but".
          const clause =
            before
              .split(
                /[,;:(]|\s[-–]\s|\bbut\b|\baber\b|\bmais\b|\bpero\b|\bma\b|\bmaar\b|\bmen\b|\bmutta\b|\bond\b/u,
              )
              .at(-1) ?? '';
          // "I was lost at first, but the video helped": difficulty or absence taken back.
          const after = sentence.slice(match.index + match[0].length);
          const takenBack =
            (family === 'too_hard' || family === 'absence') && turnedRound.test(after);
          hits.push({
            family,
            lang: c.table.lang,
            sentence: s,
            index: match.index,
            length: match[0].length,
            negated: takenBack || c.negation.test(clause),
            hedged: (hedged ??= c.hedge.test(sentence)),
            clause,
            counterfactual: c.counterfactual?.test(clause) === true,
          });
        }
      }
    }
  }
  return hits;
}

/** Orders hits: earlier sentence, earlier position, longer phrase. */
function byPosition(a: Hit, b: Hit): number {
  return a.sentence - b.sentence || a.index - b.index || b.length - a.length;
}

const alsoEnglish = new Set([
  'tan',
  'dim',
  'os',
  'fi',
  'chi',
  'mis',
  'ar',
  'yn',
  'dw',
  'gan',
  'ond',
]);
const welshOnly = new Set(
  phraseTables.find((t) => t.lang === 'cy')?.markers.filter((w) => !alsoEnglish.has(w)) ?? [],
);

/** Marker word -> the languages whose tables list it. */
const markerLanguages = new Map<string, string[]>();
for (const c of compiled)
  for (const word of c.markers) {
    const langs = markerLanguages.get(word);
    if (langs === undefined) markerLanguages.set(word, [c.table.lang]);
    else if (!langs.includes(c.table.lang)) langs.push(c.table.lang);
  }

/** Which language the reply is in: phrase hits count three, marker words one. */
function languageOf(sentences: readonly string[], hits: readonly Hit[]): string | undefined {
  const scores = new Map<string, number>();
  for (const hit of hits) scores.set(hit.lang, (scores.get(hit.lang) ?? 0) + 3);
  const words = sentences
    .join(' ')
    .split(/[^\p{L}']+/u)
    .filter((w) => w !== '');
  // Each word looked up once, not once per language (#17); the scores are then added in the
  // tables' order, as ties are broken by it.
  const markerCounts = new Map<string, number>();
  for (const word of words)
    for (const lang of markerLanguages.get(word) ?? [])
      markerCounts.set(lang, (markerCounts.get(lang) ?? 0) + 1);
  for (const c of compiled) {
    const score = (scores.get(c.table.lang) ?? 0) + (markerCounts.get(c.table.lang) ?? 0);
    scores.set(c.table.lang, score);
  }
  const ranked = [...scores].sort((a, b) => b[1] - a[1]);
  const [best] = ranked;
  if (best === undefined || best[1] < 2) return undefined;
  // Welsh is never treated less favourably: a reply with real Welsh in it is answered in Welsh.
  const welsh = scores.get('cy') ?? 0;
  // A Welsh word in an English reply ("Please unsubscribe me, diolch") makes it a mixed reply,
  // answered in Welsh; words that are also English ("tan", "dim", "chi") do not count for this.
  const welshWords = words.filter((w) => welshOnly.has(w)).length;
  if (best[0] === 'en' && welshWords >= 1) return 'cy';
  if (best[0] !== 'cy' && welsh >= 3 && welsh * 2 >= best[1]) return 'cy';
  return best[0];
}

/** Every language's word for stars: each language's `stars` pattern needs its own. */
const anyStarWord = new RegExp(phraseTables.map((t) => `(?:${t.rating.stars})`).join('|'), 'u');

/** A rating said in the opening sentences: stars, "4 stars", "3 out of 5", "8/10". */
function ratingOf(raw: string, sentences: readonly string[]): number | undefined {
  const stars = [...raw.slice(0, 400)].filter(
    (ch) => ch === '★' || ch === '⭐' || ch === '🌟',
  ).length;
  if (stars >= 1 && stars <= 5) return stars;
  for (const sentence of sentences.slice(0, 2)) {
    // "3 out of 5" and "I'd give it 4" need a digit; only stars may be spelled ("four stars").
    // Most sentences have none, and this spares them two scans per language (#17).
    const hasDigit = /\d/.test(sentence);
    // Nor can stars be said without a star word of some language.
    const hasStarWord = anyStarWord.test(sentence);
    for (const c of compiled) {
      const outOf = hasDigit ? c.outOf.exec(sentence) : null;
      // "3 out of 5." is a rating; "2 of 5 colleagues" is not: a word after a spelled-out scale
      // must still be about the rating ("3 out of 5 for this one").
      const rest = outOf === null ? '' : sentence.slice(outOf.index + outOf[0].length);
      const aboutIt =
        outOf !== null &&
        (outOf[0].includes('/') ||
          !/^\s*\p{L}/u.test(rest) ||
          /^\s*(?:for|from|overall|this|stars?)\b/u.test(rest));
      if (outOf !== null && aboutIt) {
        const value = Number(outOf[1]);
        const scale = Number(outOf[2]);
        const rating = scale === 10 ? Math.round(value / 2) : value;
        if (value >= 1 && value <= scale && rating >= 1 && rating <= 5) return rating;
      }
      const star = hasStarWord ? c.stars.exec(sentence) : null;
      if (star !== null) {
        const said = star[1] ?? '';
        const value = /^\d+$/.test(said) ? Number(said) : (c.table.dates.numbers[said] ?? 0);
        if (value >= 1 && value <= 5) return value;
      }
      const give = hasDigit ? c.give?.exec(sentence) : undefined;
      if (give !== null && give !== undefined) {
        const value = Number(give[1]);
        if (value >= 1 && value <= 5) return value;
      }
    }
  }
  return undefined;
}

function pauseOf(
  sentences: readonly string[],
  options: ReadOptions,
  lang: string | undefined,
): Intent {
  const sentDay = today(options);
  const order = [...compiled].sort(
    (a, b) => Number(b.table.lang === lang) - Number(a.table.lang === lang),
  );
  const length = findPauseLength(
    sentences.slice(0, openingSentences + 1).join(' . '),
    sentDay,
    order.map((c) => c.table.dates),
  );
  if (length === undefined) return { type: 'pause', weeks: 1 };
  return 'weeks' in length
    ? { type: 'pause', weeks: length.weeks }
    : { type: 'pause', until: length.until };
}

/** The family a command line's reading belongs to (ratings and the rest are read elsewhere). */
const commandFamily: Partial<Record<Intent['type'], Family>> = {
  done: 'done',
  too_hard: 'too_hard',
  pause: 'pause',
  resume: 'resume',
  skip: 'skip',
  stop: 'stop',
};

const familyIntent: Record<Family, Intent['type']> = {
  done: 'done',
  too_hard: 'too_hard',
  help: 'help',
  pause: 'pause',
  absence: 'pause',
  resume: 'resume',
  skip: 'skip',
  stop: 'stop',
  unsubscribe: 'stop',
};

/**
 * What a reply asks for, how sure we are, and the language it is in. See the module comment for
 * how the reading is made; `parseIntent` is this reading's intent alone.
 */
export function readIntent(text: string, options: ReadOptions): IntentReading {
  const sentences = sentencesOf(text);
  const found = hitsIn(sentences, 0, sentences.length).sort(byPosition);
  const language = languageOf(sentences, found);
  // A phrase is also denied by the negations of the language the reply is in: a Spanish word in
  // a French reply ("pas encore terminé") is negated by the French "pas".
  const replyTable = compiled.find((c) => c.table.lang === language);
  const allHits: Hit[] = found.map((h): Hit => {
    const stopping = h.family === 'stop' || h.family === 'unsubscribe';
    const negated =
      h.negated ||
      replyTable?.negation.test(h.clause) === true ||
      // Completion, difficulty and help may be denied in any language's words ("pas encore
      // terminé"); a command only in its own or the reply's, so no stray word drops a stop.
      (!stopping && !changesProgramme.has(familyIntent[h.family]) && anyNegation.test(h.clause)) ||
      (!stopping && h.counterfactual);
    // "I was going to drop out, but...": a stop said as if it did not happen is still asked about.
    return { ...h, negated, hedged: h.hedged || (stopping && h.counterfactual) };
  });
  const reading = (intent: Intent, confidence: IntentConfidence = 'clear'): IntentReading => ({
    intent,
    confidence,
    language,
  });

  // A stop or unsubscribe phrase anywhere, not negated: the reply is a stop.
  const stopHit = allHits.find(
    (h) => (h.family === 'stop' || h.family === 'unsubscribe') && !h.negated,
  );

  const command = readCommand(text, options);
  if (command.type === 'empty') {
    const rating = ratingOf(text, sentences);
    return reading(rating === undefined ? command : { type: 'rating', rating });
  }
  if (command.type !== 'reflection') {
    if (command.type !== 'stop' && stopHit !== undefined)
      return reading({ type: 'stop' }, 'probable');
    if (command.type === 'pause' && command.weeks === undefined && command.until === undefined) {
      const length = pauseOf(sentences, options, language);
      // A length we read elsewhere in the reply; else the caller decides, as before.
      if (length.type === 'pause' && (length.until !== undefined || length.weeks !== 1))
        return reading(length);
    }
    return reading(command);
  }

  if (stopHit !== undefined) {
    const clear = stopHit.sentence === 0 && !stopHit.hedged;
    return reading({ type: 'stop' }, clear ? 'clear' : 'probable');
  }

  const rating = ratingOf(text, sentences);
  if (rating !== undefined) return reading({ type: 'rating', rating });

  // A later opening sentence that is a command on its own ("I was on holiday, hence the late
  // reply. Done!") is read as the first line would be.
  for (let i = 1; i < Math.min(openingSentences, sentences.length); i++) {
    const said = readCommand(sentences[i] ?? '', options).type;
    const family = commandFamily[said];
    if (family !== undefined)
      allHits.push({
        family,
        lang: language ?? 'en',
        sentence: i,
        index: 0,
        length: (sentences[i] ?? '').length,
        negated: false,
        hedged: false,
        clause: '',
        counterfactual: false,
      });
  }
  allHits.sort(byPosition);
  // Help is asked in the opening sentence or in a question: "I showed them how to do it" is not.
  const opening = allHits.filter(
    (h) =>
      h.sentence < openingSentences &&
      !h.negated &&
      (h.family !== 'help' || h.sentence === 0 || (sentences[h.sentence] ?? '').includes('?')),
  );
  // An absence is a reason, not a request: another phrase in the opening sentences wins over it
  // ("I was on holiday, hence the late reply. Done!").
  const first = opening.find((h) => h.family !== 'absence') ?? opening[0];
  if (first !== undefined) {
    const type = familyIntent[first.family];
    const inFirstSentence = opening.filter((h) => h.sentence === first.sentence);
    let intent: Intent = { type } as Intent;
    let confidence: IntentConfidence = 'clear';
    if (type === 'pause') {
      intent = pauseOf(sentences, options, language);
      // An absence alone is a reason, not a request: ask.
      const asked = opening.some((h) => h.family === 'pause');
      if (!asked) confidence = 'probable';
    }
    if (changesProgramme.has(type)) {
      if (first.hedged || first.sentence > 0 || inFirstSentence.some((h) => h.hedged))
        confidence = 'probable';
    }
    return reading(intent, confidence);
  }

  return reading(command);
}

/**
 * Does the text ask us for something (done, too hard, pause, skip, stop, unsubscribe), rather than
 * only say the writer is away? The out-of-office reader (../classify.ts) uses it so that a
 * learner's "I'm on leave until 15 March, please pause till then" is never dropped as a robot's.
 */
export function asksSomething(text: string): boolean {
  const command = readCommand(text, { sentAt: new Date(0) }).type;
  if (command !== 'reflection' && command !== 'empty') return true;
  const sentences = sentencesOf(text);
  return hitsIn(sentences, 0, sentences.length).some((h) => !h.negated && asking.has(h.family));
}

const asking = new Set<Family>(['done', 'too_hard', 'pause', 'skip', 'stop', 'unsubscribe']);

/**
 * For a reply read as `stop`: does it ask for no more mail from us at all ("unsubscribe", "opt
 * out", "remove me", "take me off the list", "désabonnez-moi") rather than the end of this
 * programme ("stop", "I'd like to drop out")? The two differ in effect: an unsubscribe also keeps
 * every other programme and invite away (see src/consent/suppression.ts).
 *
 * @example meansUnsubscribe('Please unsubscribe me') // true
 * @example meansUnsubscribe('stop') // false
 */
export function meansUnsubscribe(text: string): boolean {
  if (commandMeansUnsubscribe(commandLine(text))) return true;
  const sentences = sentencesOf(text);
  return hitsIn(sentences, 0, sentences.length).some(
    (h) => h.family === 'unsubscribe' && !h.negated,
  );
}
