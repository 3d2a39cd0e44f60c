import { longDate } from '../language/dates.js';
import { languagesOf, type Language, type LanguagePreference } from '../language/languages.js';
import { unsubscribeLink, type RecipientLinks } from './chrome.js';
import { fillEmail, type RenderedEmail } from './email.js';
import { layoutIn, type CompiledLayouts } from './layouts.js';

/** A manager's introduction, sent once before their first digest (#14). */
export interface ManagerIntroduction {
  manager: { firstName: string };
  /** Who they manage on a programme, and which one. */
  learners: { firstName: string; lastName: string; programmeTitle: string }[];
  /** When the first digest goes, and the manager's zone it is dated in; absent if unknown. */
  firstDigest?: { at: Date; zone: string } | undefined;
  /** The manager's language: one, or both Welsh first (`cy+en`). English by default (#15). */
  language?: LanguagePreference | undefined;
}

/**
 * The introduction's sentences with numbers, names and dates, per language. Welsh puts the count
 * after a colon ("Pobl rydych yn eu rheoli: 3") rather than before a noun it would mutate, as
 * the digest does. [own], not yet reviewed by a Welsh speaker.
 */
const words: Record<
  Language,
  {
    lead: (n: number) => string;
    notShown: (rest: number) => string;
    whatYouGet: (firstDigest: string | undefined) => string;
  }
> = {
  en: {
    lead: (n) =>
      `${n === 1 ? '1 person you manage is' : `${n} people you manage are`} starting a Digital Gym programme: twelve weeks of small, practical steps in their inbox.`,
    notShown: (rest) => `and ${rest} more.`,
    whatYouGet: (first) =>
      `A short email every two weeks${first === undefined ? '' : `, the first on ${first}`}: where each person is, who could use a word from you, and a tip on what to ask. Their reflections are shared with you only when they agreed.`,
  },
  cy: {
    lead: (n) =>
      n === 1
        ? 'Mae un person rydych yn ei reoli yn dechrau rhaglen Digital Gym: deuddeg wythnos o gamau bach, ymarferol yn eu mewnflwch.'
        : `Pobl rydych yn eu rheoli sy’n dechrau rhaglen Digital Gym: ${n}. Deuddeg wythnos o gamau bach, ymarferol yn eu mewnflwch.`,
    notShown: (rest) => `a ${rest} arall.`,
    whatYouGet: (first) =>
      `E-bost byr bob pythefnos${first === undefined ? '' : `, y cyntaf ar ${first}`}: ble mae pob person, pwy allai elwa ar air gennych chi, ac awgrym ar beth i’w ofyn. Dim ond pan fyddan nhw wedi cytuno y caiff eu myfyrdodau eu rhannu gyda chi.`,
  },
};

/** Names listed in full; a large team is summed up after them, to keep the email short. */
const listed = 40;

const clip = (text: string, max: number) => {
  const flat = text.trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
};

/**
 * Fills a manager's introduction: what their people will do, what the digest is, and the one
 * thing a manager can do (protect the practice time).
 */
export function renderManagerIntroduction(
  layouts: CompiledLayouts,
  intro: ManagerIntroduction,
  links: RecipientLinks,
): RenderedEmail {
  const n = intro.learners.length;
  const rest = n - listed;
  const language = intro.language ?? 'en';
  const say = (pick: (language: Language) => string) => languagesOf(language).map(pick).join(' / ');
  const first = intro.firstDigest;
  return fillEmail(layoutIn(layouts, 'managerIntroduction', language), {
    chrome: { unsubscribe: unsubscribeLink(links, language) },
    intro: {
      manager_first_name: clip(intro.manager.firstName, 40),
      lead: say((l) => words[l].lead(n)),
      learners: intro.learners.slice(0, listed).map((l) => ({
        name: clip(`${l.firstName} ${l.lastName}`, 80),
        programme: clip(l.programmeTitle, 100),
      })),
      not_shown: rest > 0 ? say((l) => words[l].notShown(rest)) : '',
      what_you_get: say((l) =>
        words[l].whatYouGet(first === undefined ? undefined : longDate(first.at, first.zone, l)),
      ),
    },
  });
}
