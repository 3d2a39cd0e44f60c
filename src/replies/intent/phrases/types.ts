/**
 * The shape of one language's phrase table (src/replies/intent/phrases/<lang>.ts). A table is
 * data only: every entry is the source of a regular expression, matched against the reply's
 * text after it is lower-cased, its accents removed ("é" is "e", "â" is "a", "ŵ" is "w"; "æ",
 * "ø" and "ß" stay letters of their own) and its apostrophes made straight. The grammar
 * (../grammar.ts) decides which sentences are read, what negates a phrase and how sure a
 * reading is; a table only says how people say each thing in its language.
 *
 * Write phrase FAMILIES, not sentences: "(?:i've |i have )?(?:finished|completed) (?:it|that)"
 * covers many replies; a whole sentence covers one. A pattern matches at word boundaries.
 */

/** What a phrase family says. `absence` is a reason to pause (sick, on leave), not a request. */
export type Family =
  'done' | 'too_hard' | 'help' | 'pause' | 'absence' | 'resume' | 'skip' | 'stop' | 'unsubscribe';

/** A named time of year a pause may run until: the date is worked out by ../dates.ts. */
export type NamedTime =
  | 'easter'
  | 'christmas'
  | 'new_year'
  | 'summer'
  | 'autumn'
  | 'spring'
  | 'end_of_month'
  | 'next_month'
  | 'end_of_week'
  | 'next_week';

export interface DateWords {
  /** Number words to their value ("two": 2, "dwy": 2, "ddwy": 2 for the mutated form). */
  readonly numbers: Readonly<Record<string, number>>;
  /** A week, weeks: "weeks?", "wythnos(?:au)?". */
  readonly week: string;
  /** A span of two weeks in one word: "fortnight", "pythefnos|bythefnos". */
  readonly fortnight?: string;
  readonly day: string;
  readonly month: string;
  /** Words that start a date the pause runs until: "until|till|til". */
  readonly until: string;
  /** Words that start a span: "for", "am", "für". */
  readonly during: string;
  /** Words that come after the span in languages that put them there ("asti", "lang"). */
  readonly untilAfter?: string;
  /** "until then", "bis dahin": the date is said elsewhere in the reply. */
  readonly then: string;
  /** "after", "nach", "ar ôl": "after Easter". */
  readonly after: string;
  /** The twelve months, January first; each entry the alternatives for that month. */
  readonly months: readonly [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  /** The seven weekdays, Monday first. */
  readonly weekdays: readonly [string, string, string, string, string, string, string];
  /** Phrases naming a time of year or a calendar boundary. */
  readonly named: Readonly<Partial<Record<NamedTime, string>>>;
}

export interface PhraseTable {
  /** BCP 47 primary language code: `en`, `cy`, ... */
  readonly lang: string;
  /** Short, frequent words of the language, for telling which language a reply is in. */
  readonly markers: readonly string[];
  /** A line that is only this is a greeting ("Hi Sam,", "Shwmae,"). */
  readonly greetings: readonly string[];
  /** Phrase families, per what they say. */
  readonly families: Readonly<Partial<Record<Family, readonly string[]>>>;
  /**
   * Words that, a few words before a phrase, deny it: "not done yet", "don't stop",
   * "nid wyf am roi'r gorau".
   */
  readonly negations: readonly string[];
  /**
   * Words that turn a phrase into something that did not happen ("I was going to skip it but",
   * "nearly gave up"): the phrase is not read, except a stop or unsubscribe, which is asked about.
   */
  readonly counterfactuals?: readonly string[];
  /** Words that make a command only probable: "maybe", "I think", "efallai". */
  readonly hedges: readonly string[];
  /** Rating words: stars and "out of". */
  readonly rating: {
    readonly stars: string;
    readonly outOf: string;
    /** Whole-phrase ratings in words ("five stars", "pump seren"). */
    readonly give?: string;
  };
  readonly dates: DateWords;
}
