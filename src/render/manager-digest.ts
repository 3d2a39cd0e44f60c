import { chromeText } from '../language/chrome-text.js';
import { languagesOf, type Language, type LanguagePreference } from '../language/languages.js';
import { mailtoLink, unsubscribeLink, type RecipientLinks } from './chrome.js';
import { fillEmail, type RenderedEmail } from './email.js';
import { layoutIn, type CompiledLayouts } from './layouts.js';

/**
 * The fortnightly email to a manager: one block per person they manage (where they are, what is
 * done, what needs a word, the manager tips for the next fortnight), kept under the size at
 * which Gmail clips a message.
 */

/** Something a manager should know about a learner. */
export type DigestFlagKind = 'stuck' | 'behind' | 'quiet' | 'paused';

export interface DigestFlag {
  kind: DigestFlagKind;
  /**
   * Completes the label: "for 3 weeks" (quiet), "until 3 January" (paused). For a bilingual
   * manager, one per language, so each language's label reads whole ("Wedi oedi tan 3 Ionawr /
   * Paused until 3 January").
   */
  detail?: string | Readonly<Partial<Record<Language, string>>> | undefined;
}

/** One learner in a manager's digest. */
export interface DigestLearner {
  firstName: string;
  lastName: string;
  programmeTitle: string;
  week: number;
  totalWeeks: number;
  theme: string;
  /** Assignments done, of those due so far. */
  done: number;
  due: number;
  flags: DigestFlag[];
  /** A reflection the learner chose to share with their manager. */
  reflection?: { week: number; text: string } | undefined;
  /** The manager tips for the coming fortnight, already filled: see `renderManagerTips`. */
  tips: string[];
}

/** All of one manager's active learners for one fortnight. */
export interface ManagerDigest {
  manager: { firstName: string };
  /** The fortnight, already formatted in the manager's zone: "3 to 14 March". */
  period?: string | undefined;
  learners: DigestLearner[];
  /** Who stopped their programme since the last digest: mentioned once ("Gareth stopped in week 3"). */
  stopped?: { firstName: string; lastName: string; week: number }[] | undefined;
}

export interface DigestOptions {
  /** The manager's language: one, or both joined Welsh first (`cy+en`). English by default. */
  language?: LanguagePreference | undefined;
  /**
   * The HTML size to stay under. Gmail clips messages past ~102 KB; the default leaves room for
   * the headers and the transfer encoding.
   */
  maxHtmlBytes?: number;
}

/** What each flag says, and what the manager could do about it, in each language. */
const flagWords: Record<Language, Record<DigestFlagKind, { label: string; ask: string }>> = {
  en: {
    stuck: {
      label: 'Said a task was too hard',
      ask: 'Ask what got in the way. Could someone who does this well spare half an hour?',
    },
    behind: {
      label: 'Behind on assignments',
      ask: 'Could you protect 30 minutes in their diary this week for practice?',
    },
    quiet: {
      label: 'Quiet',
      ask: 'A quick "how is it going?" at your next one-to-one often gets things moving again.',
    },
    paused: {
      label: 'Paused',
      ask: 'Nothing to do: the programme picks up where they left off.',
    },
  },
  cy: {
    stuck: {
      label: 'Wedi dweud bod tasg yn rhy anodd',
      ask: 'Gofynnwch beth oedd yn y ffordd. A allai rhywun sy’n gwneud hyn yn dda roi hanner awr?',
    },
    behind: {
      label: 'Ar ei hôl hi gyda’r tasgau',
      ask: 'Allech chi neilltuo 30 munud yn eu dyddiadur yr wythnos hon i ymarfer?',
    },
    quiet: {
      label: 'Tawel',
      ask: 'Mae “sut mae’n mynd?” sydyn yn eich cyfarfod un-i-un nesaf yn aml yn cael pethau i symud eto.',
    },
    paused: {
      label: 'Wedi oedi',
      ask: 'Dim i’w wneud: bydd y rhaglen yn ailddechrau lle gwnaethon nhw adael.',
    },
  },
};

const flagText: Record<DigestFlagKind, { attention: boolean; rank: number }> = {
  stuck: { attention: true, rank: 0 },
  behind: { attention: true, rank: 1 },
  quiet: { attention: true, rank: 2 },
  paused: { attention: false, rank: 3 },
};

/**
 * The digest's sentences with numbers and names in them, per language. Welsh avoids a number
 * straight before a noun ("Nifer: 3") where English says "3 people": Welsh mutates the noun.
 */
const words: Record<
  Language,
  {
    people: (n: number) => string;
    headline: (total: number, needing: number) => string;
    intro: (total: number, needing: number) => string;
    preheader: (names: string | undefined) => string;
    weekOf: (week: number, total: number) => string;
    weekShort: (week: number, total: number) => string;
    doneShort: (done: number, due: number) => string;
    doneOfDue: (done: number, due: number) => string;
    sharedIn: (name: string, week: number) => string;
    talkedLabel: (name: string) => string;
    talkedHint: (name: string, reply: string) => string;
    notShown: (n: number, allOnTrack: boolean) => string;
    and: string;
    more: (n: number) => string;
    stopped: (name: string, week: number) => string;
    stoppedAfter: string;
  }
> = {
  en: {
    people: (n) => (n === 1 ? '1 person' : `${n} people`),
    headline: (total, needing) =>
      total === 0
        ? 'Nobody on a programme now'
        : needing > 0
          ? `${words.en.people(total)}, ${needing} to check in with`
          : `${words.en.people(total)}, all on track`,
    intro: (total, needing) =>
      total === 0
        ? 'Nobody you manage is on a programme at the moment, so this is the last digest until someone starts one.'
        : needing > 0
          ? `${words.en.people(total)} you manage ${total === 1 ? 'is' : 'are'} on a Digital Gym programme. ${needing === 1 ? '1 could' : `${needing} could`} use a word from you this fortnight.`
          : `${words.en.people(total)} you manage ${total === 1 ? 'is' : 'are'} on a Digital Gym programme, and ${total === 1 ? 'is' : 'all are'} on track. A word of encouragement still goes a long way.`,
    preheader: (names) =>
      names === undefined
        ? 'Everyone is on track. Here is what they are working on.'
        : `${names} could use a word from you.`,
    weekOf: (week, total) => `Week ${week} of ${total}`,
    weekShort: (week, total) => `week ${week}/${total}`,
    doneShort: (done, due) => `${done}/${due} done`,
    doneOfDue: (done, due) =>
      due <= 0
        ? 'nothing due yet'
        : `${done} of ${due} ${due === 1 ? 'assignment' : 'assignments'} done`,
    sharedIn: (name, week) => `${name} shared this in week ${week}:`,
    talkedLabel: (name) => `I've talked to ${name}`,
    talkedHint: (name, reply) => `Talked to ${name}? Reply "${reply}" and we will note it.`,
    notShown: (n, allOnTrack) =>
      `${n} more ${n === 1 ? 'person' : 'people'}${allOnTrack ? ', all on track,' : ''} ${n === 1 ? 'is' : 'are'} not listed, to keep this email short.`,
    and: 'and',
    more: (n) => `${n} more`,
    stopped: (name, week) => `${name} stopped in week ${week}.`,
    stoppedAfter: 'Their programme has ended; nothing more is sent to them.',
  },
  cy: {
    people: (n) => (n === 1 ? '1 person' : `${n} o bobl`),
    headline: (total, needing) =>
      total === 0
        ? 'Neb ar raglen ar hyn o bryd'
        : needing > 0
          ? `${words.cy.people(total)}, ${needing} i gysylltu â nhw`
          : `${words.cy.people(total)}, pawb ar y trywydd iawn`,
    intro: (total, needing) =>
      total === 0
        ? 'Does neb rydych yn eu rheoli ar raglen ar hyn o bryd.'
        : needing > 0
          ? `Pobl rydych yn eu rheoli ar raglen Digital Gym: ${total}. Gallai ${needing} ohonyn nhw elwa ar air gennych chi y pythefnos hwn.`
          : `Pobl rydych yn eu rheoli ar raglen Digital Gym: ${total}, a phawb ar y trywydd iawn. Mae gair o anogaeth yn dal i wneud gwahaniaeth mawr.`,
    preheader: (names) =>
      names === undefined
        ? 'Mae pawb ar y trywydd iawn. Dyma beth maen nhw’n gweithio arno.'
        : `Gallai ${names} elwa ar air gennych chi.`,
    weekOf: (week, total) => `Wythnos ${week} o ${total}`,
    weekShort: (week, total) => `wythnos ${week}/${total}`,
    doneShort: (done, due) => `${done}/${due} wedi’u gwneud`,
    doneOfDue: (done, due) =>
      due <= 0 ? 'dim byd yn ddyledus eto' : `tasgau wedi’u gwneud: ${done} o ${due}`,
    sharedIn: (name, week) => `Rhannodd ${name} hyn yn wythnos ${week}:`,
    talkedLabel: (name) => `Rydw i wedi siarad gyda ${name}`,
    talkedHint: (name, reply) =>
      `Wedi siarad gyda ${name}? Atebwch "${reply}" a byddwn yn nodi hynny.`,
    notShown: (n, allOnTrack) =>
      `Dydy ${n} o bobl eraill${allOnTrack ? ', pawb ar y trywydd iawn,' : ''} ddim wedi’u rhestru, i gadw’r e-bost hwn yn fyr.`,
    and: 'a',
    more: (n) => `${n} arall`,
    // [own] "Daeth rhaglen Gareth i ben" (Gareth's programme came to an end): says what happened
    // whoever stopped it, as "stopped" does.
    stopped: (name, week) => `Daeth rhaglen ${name} i ben yn wythnos ${week}.`,
    stoppedAfter: 'Does dim byd arall yn cael ei anfon atyn nhw.',
  },
};

const reflectionRank = 4;
const onTrackRank = 5;

function rank(learner: DigestLearner): number {
  const ranks = learner.flags.map((f) => flagText[f.kind].rank);
  if (learner.reflection) ranks.push(reflectionRank);
  return Math.min(onTrackRank, ...ranks);
}

function needsWord(learner: DigestLearner): boolean {
  return learner.flags.some((f) => flagText[f.kind].attention);
}

/** Caps a learner-supplied or trainer string so that one long value cannot blow the size budget. */
function clip(text: string, max: number): string {
  const flat = text.trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

function fullName(learner: DigestLearner): string {
  return clip(`${learner.firstName} ${learner.lastName}`, 80);
}

/** A string in each of the manager's languages, Welsh first. */
type Say = (pick: (language: Language) => string) => string;

function flagLabel(flag: DigestFlag, say: Say): string {
  return say((l) => {
    const label = flagWords[l][flag.kind].label;
    const detail = typeof flag.detail === 'string' ? flag.detail : flag.detail?.[l];
    return detail ? `${label} ${clip(detail, 60)}` : label;
  });
}

/** What the manager's one-tap reply says: the reply reader logs it as their engagement. */
export function talkedReply(learner: Pick<DigestLearner, 'firstName' | 'lastName'>): string {
  return `Talked to ${clip(`${learner.firstName} ${learner.lastName}`, 80)}`;
}

function detailed(learner: DigestLearner, replyAddress: string, say: Say) {
  const reflection = learner.reflection ? clip(learner.reflection.text, 600) : null;
  const firstName = clip(learner.firstName, 40);
  const reply = talkedReply(learner);
  const reflectionWeek = learner.reflection?.week ?? learner.week;
  return {
    name: fullName(learner),
    talked: mailtoLink(
      replyAddress,
      `Re: ${say((l) => chromeText(l).digestTitle)}`,
      talkedReply(learner),
    ),
    talked_reply: reply,
    talked_label: say((l) => words[l].talkedLabel(firstName)),
    talked_hint: say((l) => words[l].talkedHint(firstName, reply)),
    first_name: firstName,
    programme: clip(learner.programmeTitle, 100),
    week: learner.week,
    week_of: say((l) => words[l].weekOf(learner.week, learner.totalWeeks)),
    total_weeks: learner.totalWeeks,
    theme: clip(learner.theme, 120),
    done_of_due: say((l) => words[l].doneOfDue(learner.done, learner.due)),
    flags: learner.flags.map((f) => ({
      label: flagLabel(f, say),
      ask: say((l) => flagWords[l][f.kind].ask),
      attention: flagText[f.kind].attention,
    })),
    reflection:
      reflection === null
        ? null
        : {
            week: reflectionWeek,
            intro: say((l) => words[l].sharedIn(firstName, reflectionWeek)),
            text: reflection,
            quoted: `> ${reflection.replace(/\r?\n/g, '\n> ')}`,
          },
    tips: learner.tips.slice(0, 2).map((t) => clip(t, 400)),
  };
}

function compact(learner: DigestLearner, say: Say) {
  return {
    name: fullName(learner),
    week: learner.week,
    total_weeks: learner.totalWeeks,
    week_short: say((l) => words[l].weekShort(learner.week, learner.totalWeeks)),
    done: learner.done,
    due: learner.due,
    done_short: say((l) => words[l].doneShort(learner.done, learner.due)),
    status:
      learner.flags.length > 0
        ? learner.flags.map((f) => flagLabel(f, say)).join('; ')
        : say((l) => chromeText(l).onTrack),
  };
}

function nameList(names: string[], language: Language): string {
  const and = words[language].and;
  if (names.length <= 1) return names.join('');
  const shown = names.slice(0, 3);
  const rest = names.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} ${and} ${words[language].more(rest)}`;
  return `${shown.slice(0, -1).join(', ')} ${and} ${shown.at(-1)}`;
}

function notShown(hidden: DigestLearner[], say: Say): string {
  if (hidden.length === 0) return '';
  const allOnTrack = hidden.every((l) => rank(l) === onTrackRank);
  return say((l) => words[l].notShown(hidden.length, allOnTrack));
}

/**
 * Fills a manager's digest. Every learner gets a full block when it fits; when it would not
 * (a large team), those on track move to a compact table first, then the least urgent of the
 * rest, so the people who need a word always keep their block. The HTML stays under
 * `maxHtmlBytes` (default 80 KiB).
 */
export function renderManagerDigest(
  layouts: CompiledLayouts,
  digest: ManagerDigest,
  links: RecipientLinks,
  options: DigestOptions = {},
): RenderedEmail {
  const maxBytes = options.maxHtmlBytes ?? 80 * 1024;
  const language = options.language ?? 'en';
  const say: Say = (pick) => languagesOf(language).map(pick).join(' / ');
  const learners = [...digest.learners].sort(
    (a, b) => rank(a) - rank(b) || fullName(a).localeCompare(fullName(b), 'en-GB'),
  );
  const needing = learners.filter(needsWord);
  const total = learners.length;
  const headline = say((l) => words[l].headline(total, needing.length));
  const intro = say((l) => words[l].intro(total, needing.length));
  const names = needing.map((l) => clip(l.firstName, 40));
  // The last digest, with nobody left on a programme: "everyone is on track" would be untrue.
  const preheader =
    total === 0
      ? intro
      : say((l) => words[l].preheader(needing.length > 0 ? nameList(names, l) : undefined));
  const chrome = { unsubscribe: unsubscribeLink(links, language) };

  const fillWith = (detailCount: number, shown: number) =>
    fillEmail(layoutIn(layouts, 'managerDigest', language), {
      chrome,
      digest: {
        manager_first_name: clip(digest.manager.firstName, 40),
        period: digest.period ?? '',
        headline,
        preheader,
        intro,
        detailed: learners.slice(0, detailCount).map((l) => detailed(l, links.replyAddress, say)),
        others: learners.slice(detailCount, shown).map((l) => compact(l, say)),
        others_heading: say((l) =>
          detailCount > 0 ? chromeText(l).everyoneElse : chromeText(l).teamAtAGlance,
        ),
        not_shown: notShown(learners.slice(shown), say),
        stopped: (digest.stopped ?? []).slice(0, 20).map((l) => ({
          line: say((language) =>
            words[language].stopped(clip(`${l.firstName} ${l.lastName}`, 80), l.week),
          ),
          after: say((language) => words[language].stoppedAfter),
        })),
      },
    });

  // Filling costs microseconds, so trying a smaller digest is cheaper than predicting its size.
  // What goes first when it is too big: the blocks of those on track (to the table), then their
  // table rows, then the blocks of the least urgent of the rest, then the remaining rows.
  const withSomethingToSay = learners.filter((l) => rank(l) < onTrackRank).length;
  let detailCount = total;
  let shown = total;
  let email = fillWith(detailCount, shown);
  while (Buffer.byteLength(email.html) > maxBytes) {
    if (detailCount > withSomethingToSay) detailCount = withSomethingToSay;
    else if (shown > withSomethingToSay)
      shown = Math.max(withSomethingToSay, Math.floor(shown * 0.9));
    else if (detailCount > 0) detailCount = Math.floor(detailCount * 0.75);
    else if (shown > 0) shown = Math.floor(shown * 0.9);
    else break;
    email = fillWith(detailCount, shown);
  }
  return email;
}
