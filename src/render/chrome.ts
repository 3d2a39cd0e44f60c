import { GymError } from '../errors.js';
import {
  chromeString,
  progressText,
  replyWords,
  type ChromeText,
} from '../language/chrome-text.js';
import { languagesOf, type LanguagePreference } from '../language/languages.js';

/**
 * The per-recipient parts of a layout that are not the trainer's to use: the progress header,
 * the one-tap reply links and the unsubscribe link. The engine computes them for each recipient;
 * the layouts reach them as `{{ chrome.* }}`, a name the template model does not offer trainers.
 */

/**
 * The words our emails print just above their content. When a learner replies, everything from
 * this line down is quoted history: the reply reader cuts there.
 */
export const replyMarker = 'Reply above this line';

/** Where one recipient's replies and unsubscribe requests go. */
export interface RecipientLinks {
  /** The personal reply address that carries the signed token, e.g. `progress+t0k3n@gym.example.gov.uk`. */
  replyAddress: string;
  /**
   * The one-click unsubscribe page (https), when a public URL is configured. Without it the
   * footer's unsubscribe link is a `mailto:` to `replyAddress` with the body "unsubscribe".
   */
  unsubscribeUrl?: string | undefined;
}

/** A learner's email also shows how far they have come. */
export interface LearnerChrome extends RecipientLinks {
  /** Assignments the learner has said are done so far, for "Week 3 of 12 · 2 assignments done". */
  assignmentsDone: number;
}

/** Where a learner is, for emails that have no week context of their own (acknowledgements). */
export interface Progress {
  week: number;
  totalWeeks: number;
  assignmentsDone: number;
}

/**
 * The progress header. Zero is left out rather than printed: "0 assignments done" in week 1 reads
 * as a reproach before anything was due.
 *
 * @example progressLine({ week: 3, totalWeeks: 12, assignmentsDone: 2 }) // 'Week 3 of 12 · 2 assignments done'
 */
export function progressLine(
  { week, totalWeeks, assignmentsDone }: Progress,
  language: LanguagePreference = 'en',
): string {
  return languagesOf(language)
    .map((l) => progressText(l, week, totalWeeks, assignmentsDone))
    .join(' / ');
}

// An address we put into a link: no spaces, quotes, angle brackets or control characters, so it
// cannot break out of the URL or the attribute even before escaping.
const plainAddress = /^[^\s@<>"'(),;:\\[\]]+@[^\s@<>"'(),;:\\[\]]+$/;

/**
 * A `mailto:` link that opens a prefilled reply (RFC 6068): subject and body percent-encoded
 * (spaces as %20, never "+", which some clients would print), the address kept readable.
 *
 * @example mailtoLink('progress+abc@gym.example', 'Done: week 3', 'done')
 *   // 'mailto:progress+abc@gym.example?subject=Done%3A%20week%203&body=done'
 */
export function mailtoLink(address: string, subject: string, body: string): string {
  return `${mailtoOf(address)}${mailtoQuery(subject, body)}`;
}

/** `mailto:` and the address, checked and kept readable. */
function mailtoOf(address: string): string {
  if (!plainAddress.test(address)) {
    throw new GymError(
      'RENDER_FAILED',
      `reply address ${JSON.stringify(address)} is not a plain email address`,
      {
        address,
      },
    );
  }
  return `mailto:${encodeURIComponent(address).replace(/%40/g, '@').replace(/%2B/g, '+')}`;
}

function mailtoQuery(subject: string, body: string): string {
  return `?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(body)}`;
}

/** The replies behind the one-tap buttons in English: exactly what the reply reader understands. */
export const actionReplies = actionRepliesIn('en');

/**
 * The replies behind the one-tap buttons for a preference, in its first language: a Welsh or
 * bilingual email's buttons send Welsh words ("wedi gorffen"), which the reader reads as it
 * reads "done" (#15; see `replyWords`).
 */
export function actionRepliesIn(language: LanguagePreference) {
  const words = replyWords(languagesOf(language)[0]!);
  return {
    done: words.done,
    pause: words.pauseWeek,
    tooHard: words.tooHard,
    stop: words.stop,
    /** Not "stop": that ends one programme, this ends all mail from us (see src/consent/). */
    unsubscribe: words.unsubscribe,
  };
}

/** The unsubscribe link: the https page when there is one, else a mailto that says "unsubscribe". */
export function unsubscribeLink(
  links: RecipientLinks,
  language: LanguagePreference = 'en',
): string {
  const url = links.unsubscribeUrl;
  if (url === undefined || url === '')
    return `${mailtoOf(links.replyAddress)}${unsubscribeQueryOf(language)}`;
  if (!/^https:\/\/[^\s"'<>]+$/.test(url)) {
    throw new GymError(
      'RENDER_FAILED',
      `unsubscribe URL ${JSON.stringify(url)} must be an https:// URL`,
      { url },
    );
  }
  return url;
}

/** The unsubscribe mailto's encoded subject and body in a language: the same for everyone. */
function unsubscribeQueryOf(language: LanguagePreference): string {
  let query = unsubscribeQueries.get(language);
  if (query === undefined) {
    query = mailtoQuery(
      chromeString(language, (t) => t.unsubscribe),
      actionRepliesIn(language).unsubscribe,
    );
    unsubscribeQueries.set(language, query);
  }
  return query;
}
const unsubscribeQueries = new Map<LanguagePreference, string>();

/** The `chrome` object a learner's layout reads. */
export interface LearnerChromeScope {
  progress: string;
  unsubscribe: string;
  actions: { done: string; pause: string; too_hard: string; stop: string };
}

/**
 * The per-recipient layout values of a learner's email (week N is the email's week), in the
 * learner's language. The replies behind the buttons are words the reply reader knows, in the
 * email's first language.
 */
export function learnerChromeScope(
  progress: Progress,
  links: RecipientLinks,
  language: LanguagePreference = 'en',
): LearnerChromeScope {
  const to = mailtoOf(links.replyAddress);
  const same = sameForEveryone(progress, language);
  return {
    progress: same.progress,
    unsubscribe: unsubscribeLink(links, language),
    actions: {
      done: `${to}${same.done}`,
      pause: `${to}${same.pause}`,
      too_hard: `${to}${same.tooHard}`,
      stop: `${to}${same.stop}`,
    },
  };
}

/**
 * What a learner's chrome says that is the same for every learner at the same place in the same
 * language: the progress line and each link's encoded subject and body. Worked out once per
 * place and language, as a wave fills thousands of emails with a handful of them (#17).
 */
function sameForEveryone(progress: Progress, language: LanguagePreference) {
  const key = `${language} ${progress.week} ${progress.totalWeeks} ${progress.assignmentsDone}`;
  let same = chromeOfPlace.get(key);
  if (same === undefined) {
    const say = (pick: Parameters<typeof chromeString>[1]) => chromeString(language, pick);
    const week = (t: ChromeText) => `${t.week.toLowerCase()} ${progress.week}`;
    const replies = actionRepliesIn(language);
    same = {
      progress: progressLine(progress, language),
      done: mailtoQuery(
        say((t) => `${t.done}: ${week(t)}`),
        replies.done,
      ),
      pause: mailtoQuery(
        say((t) => t.pauseSubject),
        replies.pause,
      ),
      tooHard: mailtoQuery(
        say((t) => `${t.tooHard}: ${week(t)}`),
        replies.tooHard,
      ),
      stop: mailtoQuery(
        say((t) => t.stop),
        replies.stop,
      ),
    };
    // Bounded: a long-running worker sees many weeks and counts, but not without end.
    if (chromeOfPlace.size >= 10_000) chromeOfPlace.clear();
    chromeOfPlace.set(key, same);
  }
  return same;
}
const chromeOfPlace = new Map<
  string,
  Readonly<Record<'progress' | 'done' | 'pause' | 'tooHard' | 'stop', string>>
>();
