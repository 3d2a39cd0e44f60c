import { DateTime } from 'luxon';
import type { DateWords, NamedTime } from './phrases/types.js';
import { anyOf } from './text.js';

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
  // fr, de, es, it, pt, nl, sv, da, no, fi
  une: 1,
  un: 1,
  deux: 2,
  trois: 3,
  quatre: 4,
  eine: 1,
  einen: 1,
  zwei: 2,
  drei: 3,
  vier: 4,
  una: 1,
  dos: 2,
  tres: 3,
  cuatro: 4,
  due: 2,
  tre: 3,
  quattro: 4,
  um: 1,
  uma: 1,
  dois: 2,
  duas: 2,
  quatro: 4,
  een: 1,
  twee: 2,
  drie: 3,
  en: 1,
  ett: 1,
  tva: 2,
  fyra: 4,
  to: 2,
  fire: 4,
  yksi: 1,
  yhdeksi: 1,
  kaksi: 2,
  kahdeksi: 2,
  kolme: 3,
  kolmeksi: 3,
  nelja: 4,
  neljaksi: 4,
};
const amountWord = anyOf(
  ...Object.keys(numberWords).filter((word) => word !== 'to' && word !== 'en'),
  String.raw`\d{1,3}`,
);
const weekUnit = anyOf(
  'weeks?',
  'wks?',
  'w',
  'fortnight',
  'semaines?',
  'wochen?',
  'semanas?',
  'settimane',
  'settimana',
  'weken',
  'week',
  'veckor',
  'vecka',
  'uger',
  'uge',
  'uker',
  'uke',
  'viikoksi',
  'viikkoa',
  'viikko',
);
const monthUnit = anyOf(
  'months?',
  'mois',
  'monaten?',
  'monate?',
  'mes',
  'meses',
  'mese',
  'mesi',
  'maanden',
  'maand',
  'manader',
  'manad',
  'maneder',
  'maned',
  'kuukaudeksi',
  'kuukautta',
  'kuukausi',
);
const forWord = anyOf('for', 'pour', 'pendant', 'fur', 'por', 'durante', 'per', 'voor', 'i');
const nextStart = anyOf(
  '(?:the )?next',
  'les prochaines',
  'die nachsten',
  '(?:las |as )?proximas',
  '(?:le )?prossime',
  '(?:de )?komende',
  '(?:de )?kommande',
  'de naeste',
  'de neste',
  'seuraavat',
);
const nextWord = anyOf(
  'the next',
  'the',
  'next',
  'les prochaines',
  'les',
  'die nachsten',
  'die',
  'las proximas',
  'las',
  'proximas',
  'le prossime',
  'prossime',
  'as proximas',
  'de komende',
  'komende',
  'de kommande',
  'kommande',
  'de naeste',
  'de neste',
  'seuraavat',
);
const untilWord = anyOf(
  'until',
  'till',
  'til',
  "'til",
  'untill',
  'to',
  'through',
  'thru',
  "jusqu'au",
  "jusqu'a",
  'bis zum',
  'bis',
  'hasta el',
  'hasta',
  'fino al',
  'fino a',
  'ate o dia',
  'ate',
  'tot en met',
  'tot',
  'indtil',
  'frem til',
  'inntil',
);

/**
 * The words that say how long, up to the first comma or full stop: "for 2 weeks", "until 3 Jan".
 * Undefined when the rest does not start saying how long ("pause", "pause please, I'm away").
 */
export function pauseRequest(rest: string): string | undefined {
  const words = rest
    .trim()
    .replace(/^(?:(?:it|me|my emails|emails|the emails|the programme|the program)\s)?/, '');
  const start = new RegExp(
    String.raw`^(?:${anyOf(forWord, untilWord, nextStart, amountWord, 'couple', weekUnit, monthUnit)})(?![\p{L}'])`,
    'u',
  );
  if (!start.test(words)) return undefined;
  const clause = /^[^,;!?()]*/.exec(words.replace(/(\d)\.(?= \p{L})/gu, '$1'))?.[0] ?? '';
  return clause
    .replace(/\.(?:\s.*)?$/, '')
    .replace(
      /\s(?:please|pls|thanks|thank you|thx|bitte|svp|merci|danke|gracias|grazie|graag)$/,
      '',
    )
    .trim();
}

const durationPattern = new RegExp(
  String.raw`^(?:(?:${forWord})\s)?(?:(?:${nextWord})\s)?(${anyOf(...Object.keys(numberWords), String.raw`\d{1,3}`)})?\s?(?:more\s)?(${anyOf(weekUnit, monthUnit)})?$`,
);
const isMonthUnit = new RegExp(`^(?:${monthUnit})$`);

/** Weeks from "for 2 weeks", "3 weeks", "a week", "two wks", "a fortnight", "2"; else undefined. */
export function readWeeks(request: string): number | undefined {
  const match = durationPattern.exec(request);
  if (match === null) return undefined;
  const [, amount, unit] = match;
  if (amount === undefined && unit === undefined) return undefined;
  const count = amount === undefined ? 1 : (numberWords[amount] ?? Number(amount));
  if (unit === 'fortnight') return count * 2;
  if (unit !== undefined && isMonthUnit.test(unit)) return Math.round((count * 52) / 12);
  return count;
}

/** Month names in every language, by month; a month is any name or the start of one (3+ letters). */
const monthNames: readonly string[][] = [
  ['january', 'janvier', 'januar', 'janner', 'enero', 'gennaio', 'janeiro', 'januari', 'tammikuu'],
  ['february', 'fevrier', 'februar', 'febrero', 'febbraio', 'fevereiro', 'februari', 'helmikuu'],
  ['march', 'mars', 'marz', 'marzo', 'marco', 'maart', 'marts', 'maaliskuu'],
  ['april', 'avril', 'abril', 'aprile', 'huhtikuu'],
  ['may', 'mai', 'mayo', 'maggio', 'maio', 'mei', 'maj', 'toukokuu'],
  ['june', 'juin', 'juni', 'junio', 'giugno', 'junho', 'kesakuu'],
  ['july', 'juillet', 'juli', 'julio', 'luglio', 'julho', 'heinakuu'],
  ['august', 'aout', 'agosto', 'augustus', 'augusti', 'elokuu'],
  ['september', 'septembre', 'septiembre', 'setiembre', 'settembre', 'setembro', 'syyskuu'],
  ['october', 'octobre', 'oktober', 'octubre', 'ottobre', 'outubro', 'lokakuu'],
  ['november', 'novembre', 'noviembre', 'novembro', 'marraskuu'],
  ['december', 'decembre', 'dezember', 'diciembre', 'dicembre', 'dezembro', 'desember', 'joulukuu'],
];

/**
 * 1..12 for a month name or its start ("jan", "janv", "mär"), or a Finnish name with its case
 * ending ("tammikuuta"); English first, so "mar" is March and "marras" November.
 */
export function monthNumber(word: string | undefined): number | undefined {
  if (word === undefined || word.length < 3) return undefined;
  const fits = (name: string): boolean => name.startsWith(word) || word.startsWith(name);
  const english = monthNames.findIndex((names) => fits(names[0] ?? ''));
  const index = english !== -1 ? english : monthNames.findIndex((names) => names.some(fits));
  return index === -1 ? undefined : index + 1;
}

const weekdays = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const weekdayWord = String.raw`(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?`;
const monthWord = String.raw`([a-z]{3,})\.?`;
const dayWord = String.raw`(\d{1,2})(?:st|nd|rd|th|er|\.|º|°)?`;

const isoDate = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
// UK order, day first: 3/1, 3/1/28, 03.01.2028
const numericDate = /^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{4}|\d{2}))?\.?$/;
const dayMonth = new RegExp(
  String.raw`^(?:${weekdayWord},?\s)?(?:the\s)?${dayWord}\s(?:(?:of|de|del|di)\s)?${monthWord},?(?:\s(?:de\s)?(\d{4}))?$`,
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

const untilPattern = new RegExp(
  String.raw`^(?:${untilWord})\s(?:(?:the|le|el|il|o|dia|den|zum)\s)?(.+)$`,
);

/** `YYYY-MM-DD` from "until 3 Jan", "till Monday 4th January", "bis 3.1.", "jusqu'au 3 janvier". */
export function readUntil(request: string, sentDay: DateTime): string | undefined {
  const words = untilPattern.exec(request)?.[1];
  if (words === undefined) return undefined;
  const date = resolveDate(words, sentDay);
  if (date === undefined) return undefined;
  const latest = sentDay.plus({ years: 1 });
  const after = date.isValid && date.toMillis() > sentDay.toMillis();
  return after && date.toMillis() <= latest.toMillis()
    ? (date.toISODate() ?? undefined)
    : undefined;
}

export function resolveDate(words: string, sentDay: DateTime): DateTime | undefined {
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
  const number = monthNumber(month);
  if (day === undefined || number === undefined) return undefined;
  return { year: fullYear(year), month: number, day: Number(day) };
}

function fullYear(year: string | undefined): number | undefined {
  if (year === undefined) return undefined;
  return year.length === 2 ? 2000 + Number(year) : Number(year);
}

/** The next such weekday strictly after the sending day: "until Monday" sent on a Monday is a week. */
export function nextWeekday(prefix: string, sentDay: DateTime): DateTime | undefined {
  const index = weekdays.findIndex((name) => name.startsWith(prefix));
  if (index === -1) return undefined;
  const days = (index + 1 - sentDay.weekday + 7) % 7 || 7;
  return sentDay.plus({ days });
}

/** The calendar day the reply was sent, where the learner is (UTC for an unknown zone). */
export function today(options: { sentAt: Date; timeZone?: string | undefined }): DateTime {
  // The reader asks for the same day several times per reply, and each answer costs luxon an
  // Intl time-zone look-up (#17); a DateTime is immutable, so the last one is kept and reused.
  const key = `${options.sentAt.getTime()} ${options.timeZone ?? ''}`;
  if (lastToday?.key !== key) lastToday = { key, day: dayOf(options) };
  return lastToday.day;
}
let lastToday: { readonly key: string; readonly day: DateTime } | undefined;

function dayOf(options: { sentAt: Date; timeZone?: string | undefined }): DateTime {
  const sent = DateTime.fromJSDate(options.sentAt, { zone: options.timeZone ?? 'UTC' });
  const day = sent.isValid ? sent : DateTime.fromJSDate(options.sentAt, { zone: 'UTC' });
  return day.isValid ? day.startOf('day') : DateTime.fromMillis(0, { zone: 'UTC' });
}

// ---------------------------------------------------------------------------------------------
// Spans and dates said anywhere in the reply's opening sentences, in every language's words:
// "I'm off sick, could you hold off for a couple of weeks?", "Bin bis zum 15. März im Urlaub",
// "tan fis Ionawr", "am bythefnos", "till after Easter".

/** How long a pause runs: a number of weeks or a date (`YYYY-MM-DD`). */
export type PauseLength = { readonly weeks: number } | { readonly until: string };

interface CompiledDates {
  readonly numbers: ReadonlyMap<string, number>;
  readonly span: RegExp;
  readonly until: RegExp;
  readonly untilAfter: RegExp | undefined;
  readonly named: readonly (readonly [NamedTime, RegExp])[];
  readonly months: readonly RegExp[];
  readonly weekdays: readonly RegExp[];
}

const compiledDates = new WeakMap<DateWords, CompiledDates>();
const b = String.raw`(?<![\p{L}\p{N}])`;
const e = String.raw`(?![\p{L}\p{N}])`;
const dayNumber = String.raw`(\d{1,2})(?:st|nd|rd|th|er|e|eme|ème|º|°|\.|af|il|ydd|ed|fed|ain|eg|fed)?`;

function compileDates(words: DateWords): CompiledDates {
  const known = compiledDates.get(words);
  if (known !== undefined) return known;
  const numbers = new Map(Object.entries(words.numbers));
  const amount = anyOf(...numbers.keys(), String.raw`\d{1,3}`);
  const units = [words.week, words.fortnight, words.day, words.month].filter(
    (unit): unit is string => unit !== undefined,
  );
  const compiled: CompiledDates = {
    numbers,
    // "for a couple of weeks", "am bythefnos", "zwei Wochen", "a fortnight", "3 weeks"
    span: new RegExp(
      String.raw`${b}(?:(?:${words.during})\s+)?(?:(?:the\s+)?(?:next|coming|komende|kommande|nachsten|prochaines|proximas|prossime|naeste|neste|seuraavat)\s+)?(?:(${amount})\s*(?:more\s+)?)?(${units.map((u) => `(?:${u})`).join('|')})${e}`,
      'gu',
    ),
    until: new RegExp(String.raw`${b}(?:${words.until})\s+(.{1,40})`, 'gu'),
    untilAfter:
      words.untilAfter === undefined
        ? undefined
        : new RegExp(String.raw`${b}(\S+(?:\s\S+){0,2})\s+(?:${words.untilAfter})${e}`, 'gu'),
    named: Object.entries(words.named).map(
      ([name, pattern]) =>
        [
          name as NamedTime,
          // "after Easter", "ar ôl y Pasg", "na de kerst": the after-word, an article, the name.
          new RegExp(
            String.raw`^((?:${words.after})\s+)?(?:(?:the|de|het|la|le|el|il|y|yr|den|die|der|das|l')\s*)?(?:${pattern})${e}`,
            'u',
          ),
        ] as const,
    ),
    months: words.months.map((m) => new RegExp(String.raw`^(?:${m})${e}\.?`, 'u')),
    weekdays: words.weekdays.map((d) => new RegExp(String.raw`^(?:${d})${e}`, 'u')),
  };
  compiledDates.set(words, compiled);
  return compiled;
}

/** Easter Sunday of a year (the anonymous Gregorian algorithm). */
function easterSunday(year: number, zone: DateTime['zone']): DateTime {
  const a = year % 19;
  const b2 = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b2 / 4);
  const e2 = b2 % 4;
  const f = Math.floor((b2 + 8) / 25);
  const g = Math.floor((b2 - f + 1) / 3);
  const h = (19 * a + b2 - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e2 + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return DateTime.fromObject({ year, month, day }, { zone });
}

/**
 * The first day the learner is back after a named time: after Easter is Easter Monday, after
 * Christmas is 27 December (after Boxing Day), the new year is 1 January, after the summer is
 * 1 September, the end of the month is its last day.
 */
function namedDate(name: NamedTime, after: boolean, sentDay: DateTime): DateTime | undefined {
  const zone = sentDay.zone;
  const nextOf = (make: (year: number) => DateTime): DateTime => {
    const thisYear = make(sentDay.year);
    return thisYear.toMillis() > sentDay.toMillis() ? thisYear : make(sentDay.year + 1);
  };
  switch (name) {
    case 'easter':
      return nextOf((year) => easterSunday(year, zone).plus({ days: 1 }));
    case 'christmas':
      return nextOf((year) =>
        DateTime.fromObject({ year, month: 12, day: after ? 27 : 24 }, { zone }),
      );
    case 'new_year':
      return nextOf((year) =>
        DateTime.fromObject({ year, month: 1, day: after ? 2 : 1 }, { zone }),
      );
    case 'summer':
      return nextOf((year) =>
        DateTime.fromObject({ year, month: after ? 9 : 7, day: 1 }, { zone }),
      );
    case 'autumn':
      return nextOf((year) => DateTime.fromObject({ year, month: 9, day: 1 }, { zone }));
    case 'spring':
      return nextOf((year) => DateTime.fromObject({ year, month: 3, day: 1 }, { zone }));
    case 'end_of_month':
      return sentDay.endOf('month').startOf('day');
    case 'next_month':
      return sentDay.plus({ months: 1 }).startOf('month');
    case 'end_of_week':
      return sentDay.endOf('week').startOf('day');
    case 'next_week':
      return undefined;
  }
}

function monthOf(word: string, tables: readonly CompiledDates[]): number | undefined {
  for (const table of tables) {
    const index = table.months.findIndex((m) => m.test(word));
    if (index !== -1) return index + 1;
  }
  return undefined;
}

/**
 * The date at the start of `words` ("15 March", "15. März", "15 de marzo", "the 22nd",
 * "Monday", "fis Ionawr", "ddydd Llun", "15.3.", "after Easter"), or undefined.
 */
function dateAtStart(
  words: string,
  sentDay: DateTime,
  tables: readonly CompiledDates[],
): DateTime | undefined {
  // "until after Easter": the after-word follows the until-word.
  const afterBefore =
    /^(?:after|ar ol|nach|apres|despues de|dopo|depois d[aoe]|na|efter|etter)\s/u.test(words);
  // "until the end of March", "bis Ende März": the last day of that month.
  const bare = words.replace(/^(?:the|la|le)\s+/u, '');
  const endOf =
    /^(?:end of|ende|fin(?:al)? de|fine|eind van|einde van|slutet av|slutningen af|slutten av|diwedd|fin)\s+(?:(?:mis|fis|de|di|of|van)\s+)?(\p{L}+)/u.exec(
      bare,
    );
  const endMonth = endOf === null ? undefined : monthOf(endOf[1] ?? '', tables);
  if (endMonth !== undefined) {
    const last = (year: number) =>
      DateTime.fromObject({ year, month: endMonth, day: 1 }, { zone: sentDay.zone })
        .endOf('month')
        .startOf('day');
    const thisYear = last(sentDay.year);
    return thisYear.toMillis() > sentDay.toMillis() ? thisYear : last(sentDay.year + 1);
  }
  const w = words
    .replace(
      /^(?:the|le|la|el|il|o|a|dia|den|dem|zum|am|de|het|y|yr|mis|fis|dydd|ddydd|sul|mid|le jour)\s+/u,
      '',
    )
    .replace(/^(?:mis|fis|dydd|ddydd)\s+/u, '');
  for (const table of tables) {
    for (const [name, pattern] of table.named) {
      const match = pattern.exec(w);
      if (match !== null && name !== 'next_week') {
        return namedDate(name, match[1] !== undefined || afterBefore, sentDay);
      }
    }
  }
  // Numeric, day first: 15/3, 15.3., 15.03.2027, 15-3; or ISO 2027-03-15.
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})(?![\d])/.exec(w);
  if (iso !== null) return fromParts(Number(iso[1]), Number(iso[2]), Number(iso[3]), sentDay);
  const numeric = /^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?\.?(?![\d/])/u.exec(w);
  if (numeric !== null) {
    const year =
      numeric[3] === undefined
        ? undefined
        : Number(numeric[3].length === 2 ? `20${numeric[3]}` : numeric[3]);
    return fromParts(year, Number(numeric[2]), Number(numeric[1]), sentDay);
  }
  // Day then month: "15 march", "15. marz", "15 de marzo", "15th of March 2027"
  const dayFirst = new RegExp(
    String.raw`^${dayNumber}\s*(?:(?:of|de|del|di|d')\s*)?(\p{L}+)\.?(?:,?\s+(\d{4}))?`,
    'u',
  ).exec(w);
  if (dayFirst !== null) {
    const month = monthOf(dayFirst[2] ?? '', tables);
    if (month !== undefined) {
      const year = dayFirst[3] === undefined ? undefined : Number(dayFirst[3]);
      return fromParts(year, month, Number(dayFirst[1]), sentDay);
    }
  }
  // Month then day: "March 15", "march 15th"
  const monthFirst = new RegExp(
    String.raw`^(\p{L}+)\.?\s+${dayNumber}(?![\d])(?:,?\s+(\d{4}))?`,
    'u',
  ).exec(w);
  if (monthFirst !== null) {
    const month = monthOf(monthFirst[1] ?? '', tables);
    if (month !== undefined) {
      const year = monthFirst[3] === undefined ? undefined : Number(monthFirst[3]);
      return fromParts(year, month, Number(monthFirst[2]), sentDay);
    }
  }
  // A weekday: the next one after the sending day.
  const next = /^(?:next|this|coming)\s+/.exec(w);
  const dayWord = next === null ? w : w.slice(next[0].length);
  for (const table of tables) {
    const index = table.weekdays.findIndex((d) => d.test(dayWord));
    if (index !== -1) {
      const days = (index + 1 - sentDay.weekday + 7) % 7 || 7;
      return sentDay.plus({ days });
    }
  }
  // A day of the month alone: "the 22nd" is the next 22nd.
  const dayOnly = /^(\d{1,2})(?:st|nd|rd|th)(?![\p{L}\d])/u.exec(w);
  if (dayOnly !== null) {
    const day = Number(dayOnly[1]);
    const thisMonth = sentDay.set({ day });
    if (thisMonth.isValid && thisMonth.day === day && thisMonth.toMillis() > sentDay.toMillis())
      return thisMonth;
    const nextMonth = sentDay.plus({ months: 1 }).set({ day });
    return nextMonth.isValid && nextMonth.day === day ? nextMonth : undefined;
  }
  // A month alone: "until March", "tan fis Ionawr" is its first day.
  const monthAlone = /^(\p{L}+)/u.exec(w);
  if (monthAlone !== null) {
    const month = monthOf(monthAlone[1] ?? '', tables);
    if (month !== undefined && (monthAlone[1] ?? '').length >= 3) {
      const thisYear = DateTime.fromObject(
        { year: sentDay.year, month, day: 1 },
        { zone: sentDay.zone },
      );
      return thisYear.toMillis() > sentDay.toMillis() ? thisYear : thisYear.plus({ years: 1 });
    }
  }
  return undefined;
}

function fromParts(
  year: number | undefined,
  month: number,
  day: number,
  sentDay: DateTime,
): DateTime | undefined {
  const make = (y: number) => DateTime.fromObject({ year: y, month, day }, { zone: sentDay.zone });
  if (year !== undefined) {
    const date = make(year);
    return date.isValid ? date : undefined;
  }
  const thisYear = make(sentDay.year);
  if (thisYear.isValid && thisYear.toMillis() >= sentDay.toMillis()) return thisYear;
  const nextYear = make(sentDay.year + 1);
  return nextYear.isValid ? nextYear : undefined;
}

/** A date we may pause until: after the sending day and at most a year ahead. */
function usable(date: DateTime | undefined, sentDay: DateTime): string | undefined {
  if (date === undefined || !date.isValid) return undefined;
  if (date.toMillis() <= sentDay.toMillis()) return undefined;
  if (date.toMillis() > sentDay.plus({ years: 1 }).toMillis()) return undefined;
  return date.toISODate() ?? undefined;
}

/**
 * How long a pause the learner asked for, said anywhere in `text` (normalised: lower case, no
 * accents): the earliest of "until <date>", "<date> asti", a span ("for a fortnight", "zwei
 * Wochen"), a named time ("after Easter", "tan y flwyddyn newydd") or "next week". Undefined when
 * the text says none we can use.
 */
export function findPauseLength(
  text: string,
  sentDay: DateTime,
  words: readonly DateWords[],
): PauseLength | undefined {
  const tables = words.map(compileDates);
  const found: { index: number; length: PauseLength }[] = [];
  const fallback: { index: number; length: PauseLength }[] = [];
  for (const table of tables) {
    for (const match of text.matchAll(table.until)) {
      const until = usable(dateAtStart(match[1] ?? '', sentDay, tables), sentDay);
      if (until !== undefined) found.push({ index: match.index, length: { until } });
    }
    if (table.untilAfter !== undefined) {
      for (const match of text.matchAll(table.untilAfter)) {
        // "olen lomalla 15.3. asti": the date is the last word or two before "asti".
        const tokens = (match[1] ?? '').split(/\s+/);
        for (let take = 1; take <= tokens.length; take++) {
          const words = tokens.slice(-take).join(' ');
          const until = usable(dateAtStart(words, sentDay, tables), sentDay);
          if (until !== undefined) {
            found.push({ index: match.index, length: { until } });
            break;
          }
        }
      }
    }
    for (const match of text.matchAll(table.span)) {
      const [whole, amount, unit] = match;
      if (unit === undefined) continue;
      // "a week" needs its article or number, or "for": a bare "week" is "this week" talk.
      if (amount === undefined && !/\s/.test(whole.trim())) continue;
      const count = amount === undefined ? 1 : (table.numbers.get(amount) ?? Number(amount));
      const weeks = weeksOf(count, unit, words);
      if (weeks === undefined || weeks < 1 || weeks > 52) continue;
      // A bare "next week" says when, and is the length only when nothing else says one.
      (amount === undefined ? fallback : found).push({ index: match.index, length: { weeks } });
    }
  }
  // Named times said with "after"/"until" words anywhere: "till after Easter", "after the new year".
  for (const table of tables) {
    for (const [name, pattern] of table.named) {
      const anywhere = new RegExp(String.raw`${b}${pattern.source.slice(1)}`, 'gu');
      for (const match of text.matchAll(anywhere)) {
        if (name === 'next_week') {
          // "next week" is the length only when nothing else says one: "from next week, until
          // after Easter" runs until Easter.
          fallback.push({ index: match.index, length: { weeks: 1 } });
          continue;
        }
        const until = usable(namedDate(name, match[1] !== undefined, sentDay), sentDay);
        if (until !== undefined) found.push({ index: match.index + 0.5, length: { until } });
      }
    }
  }
  found.sort((x, y) => x.index - y.index);
  return found[0]?.length ?? fallback[0]?.length;
}

function weeksOf(count: number, unit: string, words: readonly DateWords[]): number | undefined {
  const is = (pattern: string | undefined) =>
    pattern !== undefined && new RegExp(`^(?:${pattern})$`, 'u').test(unit);
  if (words.some((w) => is(w.fortnight))) return count * 2;
  if (words.some((w) => is(w.week))) return count;
  if (words.some((w) => is(w.month))) return Math.round((count * 52) / 12);
  if (words.some((w) => is(w.day))) return Math.max(1, Math.round(count / 7));
  return undefined;
}
