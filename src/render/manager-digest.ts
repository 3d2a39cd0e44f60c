import { mailtoLink, unsubscribeLink, type RecipientLinks } from './chrome.js';
import { fillEmail, type RenderedEmail } from './email.js';
import type { CompiledLayouts } from './layouts.js';

/**
 * The fortnightly email to a manager: one block per person they manage (where they are, what is
 * done, what needs a word, the manager tips for the next fortnight), kept under the size at
 * which Gmail clips a message.
 */

/** Something a manager should know about a learner. */
export type DigestFlagKind = 'stuck' | 'behind' | 'quiet' | 'paused';

export interface DigestFlag {
  kind: DigestFlagKind;
  /** Completes the label: "for 3 weeks" (quiet), "until 3 January" (paused). */
  detail?: string | undefined;
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
  /**
   * The HTML size to stay under. Gmail clips messages past ~102 KB; the default leaves room for
   * the headers and the transfer encoding.
   */
  maxHtmlBytes?: number;
}

/** What each flag says, and what the manager could do about it. */
const flagText: Record<
  DigestFlagKind,
  { label: string; ask: string; attention: boolean; rank: number }
> = {
  stuck: {
    label: 'Said a task was too hard',
    ask: 'Ask what got in the way. Could someone who does this well spare half an hour?',
    attention: true,
    rank: 0,
  },
  behind: {
    label: 'Behind on assignments',
    ask: 'Could you protect 30 minutes in their diary this week for practice?',
    attention: true,
    rank: 1,
  },
  quiet: {
    label: 'Quiet',
    ask: 'A quick "how is it going?" at your next one-to-one often gets things moving again.',
    attention: true,
    rank: 2,
  },
  paused: {
    label: 'Paused',
    ask: 'Nothing to do: the programme picks up where they left off.',
    attention: false,
    rank: 3,
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

function flagLabel(flag: DigestFlag): string {
  const { label } = flagText[flag.kind];
  return flag.detail ? `${label} ${clip(flag.detail, 60)}` : label;
}

/** What the manager's one-tap reply says: the reply reader logs it as their engagement. */
export function talkedReply(learner: Pick<DigestLearner, 'firstName' | 'lastName'>): string {
  return `Talked to ${clip(`${learner.firstName} ${learner.lastName}`, 80)}`;
}

function detailed(learner: DigestLearner, replyAddress: string) {
  const reflection = learner.reflection ? clip(learner.reflection.text, 600) : null;
  return {
    name: fullName(learner),
    talked: mailtoLink(replyAddress, 'Re: Your team this fortnight', talkedReply(learner)),
    talked_reply: talkedReply(learner),
    first_name: clip(learner.firstName, 40),
    programme: clip(learner.programmeTitle, 100),
    week: learner.week,
    total_weeks: learner.totalWeeks,
    theme: clip(learner.theme, 120),
    done_of_due: doneOfDue(learner),
    flags: learner.flags.map((f) => ({
      label: flagLabel(f),
      ask: flagText[f.kind].ask,
      attention: flagText[f.kind].attention,
    })),
    reflection:
      reflection === null
        ? null
        : {
            week: learner.reflection?.week ?? learner.week,
            text: reflection,
            quoted: `> ${reflection.replace(/\r?\n/g, '\n> ')}`,
          },
    tips: learner.tips.slice(0, 2).map((t) => clip(t, 400)),
  };
}

function doneOfDue({ done, due }: DigestLearner): string {
  if (due <= 0) return 'nothing due yet';
  return `${done} of ${due} ${due === 1 ? 'assignment' : 'assignments'} done`;
}

function compact(learner: DigestLearner) {
  return {
    name: fullName(learner),
    week: learner.week,
    total_weeks: learner.totalWeeks,
    done: learner.done,
    due: learner.due,
    status: learner.flags.length > 0 ? learner.flags.map(flagLabel).join('; ') : 'On track',
  };
}

function people(n: number): string {
  return n === 1 ? '1 person' : `${n} people`;
}

function nameList(names: string[]): string {
  if (names.length <= 1) return names.join('');
  const shown = names.slice(0, 3);
  const rest = names.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  return `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}

function notShown(hidden: DigestLearner[]): string {
  if (hidden.length === 0) return '';
  const allOnTrack = hidden.every((l) => rank(l) === onTrackRank);
  const n = hidden.length;
  return `${n} more ${n === 1 ? 'person' : 'people'}${allOnTrack ? ', all on track,' : ''} ${n === 1 ? 'is' : 'are'} not listed, to keep this email short.`;
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
  const learners = [...digest.learners].sort(
    (a, b) => rank(a) - rank(b) || fullName(a).localeCompare(fullName(b), 'en-GB'),
  );
  const needing = learners.filter(needsWord);
  const total = learners.length;
  const headline =
    needing.length > 0
      ? `${people(total)}, ${needing.length} to check in with`
      : `${people(total)}, all on track`;
  const intro =
    total === 0
      ? 'Nobody you manage is on a programme at the moment.'
      : needing.length > 0
        ? `${people(total)} you manage ${total === 1 ? 'is' : 'are'} on a Digital Gym programme. ${needing.length === 1 ? '1 could' : `${needing.length} could`} use a word from you this fortnight.`
        : `${people(total)} you manage ${total === 1 ? 'is' : 'are'} on a Digital Gym programme, and ${total === 1 ? 'is' : 'all are'} on track. A word of encouragement still goes a long way.`;
  const preheader =
    needing.length > 0
      ? `${nameList(needing.map((l) => clip(l.firstName, 40)))} could use a word from you.`
      : 'Everyone is on track. Here is what they are working on.';
  const chrome = { unsubscribe: unsubscribeLink(links) };

  const fillWith = (detailCount: number, shown: number) =>
    fillEmail(layouts.managerDigest, {
      chrome,
      digest: {
        manager_first_name: clip(digest.manager.firstName, 40),
        period: digest.period ?? '',
        headline,
        preheader,
        intro,
        detailed: learners.slice(0, detailCount).map((l) => detailed(l, links.replyAddress)),
        others: learners.slice(detailCount, shown).map(compact),
        others_heading: detailCount > 0 ? 'Everyone else' : 'Your team at a glance',
        not_shown: notShown(learners.slice(shown)),
        stopped: (digest.stopped ?? []).slice(0, 20).map((l) => ({
          line: `${clip(`${l.firstName} ${l.lastName}`, 80)} stopped in week ${l.week}.`,
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
