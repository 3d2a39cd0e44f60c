import { DateTime } from 'luxon';
import type { DayName } from '../sequence/schema.js';
import { languagesOf, type Language, type LanguagePreference } from './languages.js';

/**
 * Weekday and month names in each language, ours rather than the runtime's: Luxon takes them
 * from the ICU data Node was built with, and a Node built with small ICU has no Welsh at all
 * (it prints English names under `cy` without a word). Checked against Luxon's `cy` locale on a
 * full-ICU Node in test/language/dates.test.ts. Welsh capitalises both, as English does.
 */
const weekdays: Record<Language, readonly string[]> = {
  cy: [
    'Dydd Llun',
    'Dydd Mawrth',
    'Dydd Mercher',
    'Dydd Iau',
    'Dydd Gwener',
    'Dydd Sadwrn',
    'Dydd Sul',
  ],
  en: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'],
};
const shortWeekdays: Record<Language, readonly string[]> = {
  cy: ['Llun', 'Maw', 'Mer', 'Iau', 'Gwe', 'Sad', 'Sul'],
  en: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
};
const months: Record<Language, readonly string[]> = {
  cy: [
    'Ionawr',
    'Chwefror',
    'Mawrth',
    'Ebrill',
    'Mai',
    'Mehefin',
    'Gorffennaf',
    'Awst',
    'Medi',
    'Hydref',
    'Tachwedd',
    'Rhagfyr',
  ],
  en: [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ],
};

const shortMonths: Record<Language, readonly string[]> = {
  cy: ['Ion', 'Chw', 'Maw', 'Ebr', 'Mai', 'Meh', 'Gor', 'Awst', 'Medi', 'Hyd', 'Tach', 'Rhag'],
  en: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
};

const dayIndex: Record<DayName, number> = {
  mon: 0,
  tue: 1,
  wed: 2,
  thu: 3,
  fri: 4,
  sat: 5,
  sun: 6,
};

/** A programme day's name: `dayLabel('fri', 'cy')` is "Dydd Gwener". */
export function dayLabel(day: DayName, language: Language): string {
  return weekdays[language][dayIndex[day]]!;
}

/** "Dydd Gwener 1 Ionawr" / "Friday 1 January", on the clock of `zone`. */
export function longDate(instant: Date, zone: string, language: Language): string {
  const local = DateTime.fromJSDate(instant, { zone });
  return `${weekdays[language][local.weekday - 1]} ${local.day} ${months[language][local.month - 1]}`;
}

/** "1 Ionawr" / "1 January". */
export function dayAndMonth(instant: Date, zone: string, language: Language): string {
  const local = DateTime.fromJSDate(instant, { zone });
  return `${local.day} ${months[language][local.month - 1]}`;
}

/** "Gwe 1 Ion 2027, 14:00" / "Fri 1 Jan 2027, 14:00", for invite bodies. */
export function slotLabel(instant: Date, zone: string, language: Language): string {
  const local = DateTime.fromJSDate(instant, { zone });
  return `${shortWeekdays[language][local.weekday - 1]} ${local.day} ${shortMonths[language][local.month - 1]} ${local.year}, ${local.toFormat('HH:mm')}`;
}

/** The same date in each language of a preference, joined: "Dydd Gwener 1 Ionawr / Friday 1 January". */
export function inPreference(
  preference: LanguagePreference,
  format: (language: Language) => string,
): string {
  return languagesOf(preference).map(format).join(' / ');
}
