import { DateTime } from 'luxon';
import type { Intent } from './types.js';

/**
 * What a learner's reply asks for, read from its visible text (quoted history already removed).
 *
 * A command is read from the first non-empty line only, and only when the line starts with it:
 * "Done, and I learned..." is `done`, "I could not stop thinking about it" is a reflection. A
 * line that is only a greeting ("Hi Sam,") is passed over first. After the command word may come
 * punctuation, emoji, "thanks"/"please" or, after punctuation, anything ("done - thanks",
 * "Pause until 3 Jan, I'm on leave"); a plain word straight after it makes the line a sentence
 * ("Stop thinking", "Back to you later", "I can't wait to try this"), except after the done
 * family ("Finished the assignment") and "stuck" ("stuck on step 2").
 *
 * Pause: `weeks` for a duration and `until` (`YYYY-MM-DD`) for a date. A bare "pause" is one
 * week. A date without a year is its next occurrence on or after the day the reply was sent (in
 * `timeZone`). When the learner said how long but we cannot use it (words we do not read, a
 * date that is not after the sending day or more than a year ahead, 0 or over 52 weeks), the
 * result is `{ type: 'pause' }` with neither field: the caller decides the length and should tell
 * the learner, rather than us pausing for a length they did not ask for.
 */
export function parseIntent(
  text: string,
  options: { sentAt: Date; timeZone?: string | undefined },
): Intent {
  if (!/[\p{L}\p{N}?]/u.test(text)) return { type: 'empty' };
  if (/^[\s?]+$/.test(text)) return { type: 'help' };
  const line = commandLine(text);
  return (
    readRating(line) ??
    readStop(line) ??
    readPause(line, today(options)) ??
    readSimple(line) ??
    (/[\p{L}\p{N}]/u.test(text) ? { type: 'reflection' } : { type: 'empty' })
  );
}

// ---------------------------------------------------------------------------------------------
// The line a command is read from

const greeting =
  /^(?:hi|hello|hey|hiya|dear|good (?:morning|afternoon|evening)|morning|afternoon)(?![\p{L}\p{N}])[^.!?]{0,30}[,!.]?$/u;

/** The first non-empty line that is not only a greeting, lower case, quotes and spaces tidied. */
function commandLine(text: string): string {
  const lines = text
    .slice(0, 4096)
    .split(/\r\n|\r|\n/)
    .map(normalise)
    .filter((line) => line !== '');
  const first = lines[0] ?? '';
  const second = lines[1];
  return greeting.test(first) && second !== undefined ? second : first;
}

function normalise(line: string): string {
  return line
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[’‘`´]/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

// A command word ends where a word would: "backend", "stopped", "done's" are other words.
const wordEnd = String.raw`(?![\p{L}\p{N}'-])`;
// Said before a command without changing it.
const politePrefix = String.raw`^(?:(?:please|pls|ok|okay|yes|hi|hello)(?:[,!.]|\s)\s*)*`;
const politeWord =
  /^(?:thanks|thank you|thx|ty|cheers|please|pls|now|again|for now|today|mate|x+)(?![\p{L}\p{N}])/u;

/** What may follow a command word for the line still to be that command. */
function isCommandTail(rest: string): boolean {
  const tail = rest.trim();
  return tail === '' || !/^[\p{L}\p{N}]/u.test(tail) || politeWord.test(tail);
}

/** The rest of `line` after a command matched by `pattern` at its start, or undefined. */
function afterCommand(line: string, pattern: string): string | undefined {
  const match = new RegExp(`${politePrefix}(?:${pattern})${wordEnd}`, 'u').exec(line);
  return match === null ? undefined : line.slice(match[0].length);
}

function startsWithCommand(line: string, pattern: string): boolean {
  const rest = afterCommand(line, pattern);
  return rest !== undefined && isCommandTail(rest);
}

// ---------------------------------------------------------------------------------------------
// Commands without arguments

const simpleCommands: readonly {
  type: 'done' | 'too_hard' | 'resume' | 'skip' | 'help';
  pattern: string;
  continues?: RegExp;
}[] = [
  {
    type: 'too_hard',
    pattern: String.raw`(?:(?:this is|this was|it's|it is|it was|that's|that is|way|much|far|a bit|a little|just)\s)*too (?:hard|difficult|tough|complicated|much)(?: for me)?`,
  },
  {
    type: 'too_hard',
    pattern: String.raw`(?:i'm |i am |i've got |i got |got |i'm a bit |i'm really |really |a bit )?stuck`,
    // "stuck on step 2", "stuck with the brief"
    continues: /^ (?:on|with|at|again)(?![\p{L}\p{N}])/u,
  },
  {
    type: 'too_hard',
    pattern: String.raw`(?:i |sorry,? i )?(?:can't|cannot|can not|couldn't)(?: do (?:this|it|that)(?: one)?)?`,
  },
  {
    type: 'done',
    pattern: String.raw`(?:(?:i'm|i am|i'm all|all|it's|its|task|assignment|exercise|homework|week \d{1,2}|yes)\s)?(?:done|finished|completed)|(?:i )?(?:did|have done|'ve done|done) it|i've done it|i have done it`,
    // "Finished the assignment", "done with week 3"; not "done nothing", "completed not yet".
    continues: /^ (?!not|nothing|yet)[\p{L}\p{N}]/u,
  },
  {
    type: 'resume',
    pattern: String.raw`resume|(?:i'm |i am |we're |im )?back|un-?pause|restart|start again|continue`,
  },
  {
    type: 'skip',
    pattern: String.raw`skip(?: (?:this|next|that) (?:week|one|assignment|task)| it| week \d{1,2}| this)?`,
  },
  {
    type: 'help',
    pattern: String.raw`help(?: me| please)?|(?:i |we )?(?:need|want|would like) (?:some |a bit of )?help|(?:can|could) (?:you|someone) help(?: me)?`,
    // "I need help with the brief"
    continues: /^ (?:with|on|understanding)(?![\p{L}\p{N}])/u,
  },
];

function readSimple(line: string): Intent | undefined {
  for (const command of simpleCommands) {
    const rest = afterCommand(line, command.pattern);
    if (rest === undefined) continue;
    if (isCommandTail(rest) || command.continues?.test(rest) === true)
      return { type: command.type };
  }
  return undefined;
}

const stopCommand = String.raw`(?:stop|unsubscribe|opt out|opt-out|remove me|take me off|cancel)(?: (?:the |this |my )?(?:programme|program|course|emails|e-mails|messages|subscription|it|all|sending(?: me)?(?: emails| these)?|from (?:the |this |your )?(?:list|mailing list|programme|program|course|emails)))?`;

function readStop(line: string): Intent | undefined {
  return startsWithCommand(line, stopCommand) ? { type: 'stop' } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Ratings: "4/5", "rating: 4", "4 out of 5", "5/5 great course", a lone "4"

const ratingPattern =
  /^(?:(?:rating|rate|score|my rating|i'd give it|i give it)\s?[:=-]?\s?)?(\d{1,2})(?:\s?(?:\/|out of|of)\s?(\d{1,2}))?(?:\s?stars?)?(?![\p{L}\p{N}/:-]|[.,]\d)/u;

function readRating(line: string): Intent | undefined {
  const match = ratingPattern.exec(line);
  if (match === null) return undefined;
  const [whole, value, scale] = match;
  const hasPrefix = !/^\d/.test(whole);
  // A lone number is a rating only with no words after it: "3 things I learned" and "1. The
  // headline..." are reflections.
  if (scale === undefined && !hasPrefix && /[\p{L}\p{N}]/u.test(line.slice(whole.length))) {
    return undefined;
  }
  if (scale !== undefined && scale !== '5') return undefined;
  const rating = Number(value);
  return rating >= 1 && rating <= 5 ? { type: 'rating', rating } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Pause

function readPause(line: string, sentDay: DateTime): Intent | undefined {
  const rest = afterCommand(line, String.raw`pause|put me on hold|take a break`);
  if (rest === undefined) return undefined;
  const request = pauseRequest(rest);
  if (request === undefined) return isCommandTail(rest) ? { type: 'pause', weeks: 1 } : undefined;
  const weeks = readWeeks(request);
  if (weeks !== undefined)
    return weeks >= 1 && weeks <= 52 ? { type: 'pause', weeks } : { type: 'pause' };
  const until = readUntil(request, sentDay);
  return until === undefined ? { type: 'pause' } : { type: 'pause', until };
}

/**
 * The words that say how long, up to the first comma or full stop: "for 2 weeks", "until 3 Jan".
 * Undefined when the rest does not start saying how long ("pause", "pause please, I'm away").
 */
function pauseRequest(rest: string): string | undefined {
  const words = rest
    .trim()
    .replace(/^(?:(?:it|me|my emails|emails|the emails|the programme|the program)\s)?/, '');
  if (
    !/^(?:for|until|till|til|'til|untill|to|through|thru|till|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|couple|\d)(?![\p{L}])/u.test(
      words,
    )
  ) {
    return undefined;
  }
  const clause = /^[^,;!?()]*/.exec(words)?.[0] ?? '';
  return clause
    .replace(/\.(?:\s.*)?$/, '')
    .replace(/\s(?:please|pls|thanks|thank you|thx)$/, '')
    .trim();
}

const numberWords: Readonly<Record<string, number>> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  'a couple of': 2,
  'a couple': 2,
  couple: 2,
  'couple of': 2,
};

const durationPattern =
  /^(?:for\s)?(?:the\s)?(?:next\s)?(\d{1,3}|a couple of|a couple|couple of|couple|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)?\s?(?:more\s)?(weeks?|wks?|w|fortnight|months?)?$/;

/** Weeks from "for 2 weeks", "3 weeks", "a week", "two wks", "a fortnight", "2"; else undefined. */
function readWeeks(request: string): number | undefined {
  const match = durationPattern.exec(request);
  if (match === null) return undefined;
  const [, amount, unit] = match;
  if (amount === undefined && unit === undefined) return undefined;
  const count = amount === undefined ? 1 : (numberWords[amount] ?? Number(amount));
  if (unit === 'fortnight') return count * 2;
  if (unit !== undefined && unit.startsWith('month')) return Math.round((count * 52) / 12);
  return count;
}

const months: Readonly<Record<string, number>> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  sept: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

const weekdays = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const weekdayWord = String.raw`(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?`;
const monthWord = String.raw`(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?`;
const dayWord = String.raw`(\d{1,2})(?:st|nd|rd|th)?`;

const isoDate = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
// UK order, day first: 3/1, 3/1/28, 03.01.2028
const numericDate = /^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{4}|\d{2}))?\.?$/;
const dayMonth = new RegExp(
  String.raw`^(?:${weekdayWord},?\s)?(?:the\s)?${dayWord}\s(?:of\s)?${monthWord},?(?:\s(\d{4}))?$`,
);
const monthDay = new RegExp(
  String.raw`^(?:${weekdayWord},?\s)?${monthWord}\s(?:the\s)?${dayWord},?(?:\s(\d{4}))?$`,
);
const weekdayOnly = /^(?:next\s|this\s)?(mon|tue|wed|thu|fri|sat|sun)[a-z]*$/;

interface DateParts {
  year: number | undefined;
  month: number;
  day: number;
}

/** `YYYY-MM-DD` from "until 3 Jan", "till Monday 4th January", "until 3/1", "until 2028-01-03". */
function readUntil(request: string, sentDay: DateTime): string | undefined {
  const match = /^(?:until|till|til|'til|untill|to|through|thru)\s(?:the\s)?(.+)$/.exec(request);
  const words = match?.[1];
  if (words === undefined) return undefined;
  const date = resolveDate(words, sentDay);
  if (date === undefined) return undefined;
  const latest = sentDay.plus({ years: 1 });
  const after = date.isValid && date.toMillis() > sentDay.toMillis();
  return after && date.toMillis() <= latest.toMillis()
    ? (date.toISODate() ?? undefined)
    : undefined;
}

function resolveDate(words: string, sentDay: DateTime): DateTime | undefined {
  const weekday = weekdayOnly.exec(words)?.[1];
  if (weekday !== undefined) return nextWeekday(weekday, sentDay);
  const parts = dateParts(words);
  if (parts === undefined) return undefined;
  const inYear = (year: number): DateTime =>
    DateTime.fromObject({ year, month: parts.month, day: parts.day }, { zone: sentDay.zone });
  if (parts.year !== undefined) {
    const date = inYear(parts.year);
    return date.isValid ? date : undefined;
  }
  // No year: the next such date on or after the sending day.
  const thisYear = inYear(sentDay.year);
  if (!thisYear.isValid) {
    const leap = inYear(sentDay.year + 1);
    return leap.isValid ? leap : undefined;
  }
  return thisYear.toMillis() >= sentDay.toMillis() ? thisYear : inYear(sentDay.year + 1);
}

function dateParts(words: string): DateParts | undefined {
  const iso = isoDate.exec(words);
  if (iso !== null) return { year: Number(iso[1]), month: Number(iso[2]), day: Number(iso[3]) };
  const numeric = numericDate.exec(words);
  if (numeric !== null) {
    return { year: fullYear(numeric[3]), month: Number(numeric[2]), day: Number(numeric[1]) };
  }
  const dm = dayMonth.exec(words);
  if (dm !== null) return textual(dm[1], dm[2], dm[3]);
  const md = monthDay.exec(words);
  if (md !== null) return textual(md[2], md[1], md[3]);
  return undefined;
}

function textual(
  day: string | undefined,
  month: string | undefined,
  year: string | undefined,
): DateParts | undefined {
  const monthNumber = months[month ?? ''];
  if (day === undefined || monthNumber === undefined) return undefined;
  return { year: fullYear(year), month: monthNumber, day: Number(day) };
}

function fullYear(year: string | undefined): number | undefined {
  if (year === undefined) return undefined;
  return year.length === 2 ? 2000 + Number(year) : Number(year);
}

/** The next such weekday strictly after the sending day: "until Monday" sent on a Monday is a week. */
function nextWeekday(prefix: string, sentDay: DateTime): DateTime | undefined {
  const index = weekdays.findIndex((name) => name.startsWith(prefix));
  if (index === -1) return undefined;
  const days = (index + 1 - sentDay.weekday + 7) % 7 || 7;
  return sentDay.plus({ days });
}

/** The calendar day the reply was sent, where the learner is (UTC for an unknown zone). */
function today(options: { sentAt: Date; timeZone?: string | undefined }): DateTime {
  const sent = DateTime.fromJSDate(options.sentAt, { zone: options.timeZone ?? 'UTC' });
  const day = sent.isValid ? sent : DateTime.fromJSDate(options.sentAt, { zone: 'UTC' });
  return day.isValid ? day.startOf('day') : DateTime.fromMillis(0, { zone: 'UTC' });
}
