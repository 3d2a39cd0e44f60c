import {
  actionRepliesIn,
  mailtoLink,
  progressLine,
  unsubscribeLink,
  type Progress,
  type RecipientLinks,
} from './chrome.js';
import {
  acknowledgementWords,
  chromeString,
  proposalWords,
  type AcknowledgementFacts,
  type AcknowledgementWordsKind,
} from '../language/chrome-text.js';
import { htmlLang, languagesOf, type LanguagePreference } from '../language/languages.js';
import { fillEmail, type RenderedEmail } from './email.js';
import { layoutIn, type CompiledLayouts } from './layouts.js';

/** The short threaded reply that confirms what we understood from a learner's reply. */
export interface Acknowledgement {
  /** The subject of the learner's message; ours is "Re: " and that subject, in the same thread. */
  replyToSubject: string;
  /** '' when we do not know it: "Thanks." instead of "Thanks, Sam." */
  firstName: string;
  /**
   * What we logged, one line: "Logged: done for week 3.", as decided in English. Used as it is
   * only when `kind` is absent (payloads stored before #15); else worded from `kind` and `facts`.
   */
  message: string;
  /** Optional second line: "Your next email arrives on Monday." */
  detail?: string | undefined;
  /** What it answers: the renderer words it in `language` from this and `facts` (#15). */
  kind?: AcknowledgementWordsKind | undefined;
  facts?: AcknowledgementFacts | undefined;
  /** Shown in the header beside "Digital Gym"; "Your reply" when absent. */
  programmeTitle?: string | undefined;
  /** The learner's progress after this reply, for the header line. */
  progress?: Progress | undefined;
  /**
   * A question about a probable command, answered in one tap: each button opens an email to a
   * signed address ("Did you mean: pause for 2 weeks? [Yes, pause] [No, it was a note]").
   */
  question?:
    | {
        proposal: string;
        yes: { label: string; address: string };
        no: { label: string; address: string };
      }
    | undefined;
  /**
   * What the acknowledgement's own words are in: the language of the learner's reply, else the
   * learner's (#15), both Welsh first for `cy+en`. English when absent.
   */
  language?: LanguagePreference | undefined;
}

/** "Re: Week 3: listen", never "Re: RE: Re: Week 3: listen". */
function replySubject(subject: string): string {
  const bare = subject.replace(/^\s*((re|aw|sv|antw|vs|fw|fwd)\s*:\s*)+/i, '').trim();
  return `Re: ${bare === '' ? 'your reply' : bare}`;
}

/**
 * Fills the acknowledgement for one reply: "Thanks, Sam. Logged: done for week 3."
 * The mail composer threads it (In-Reply-To, References) and marks it Auto-Submitted.
 */
export function renderAcknowledgement(
  layouts: CompiledLayouts,
  ack: Acknowledgement,
  links: RecipientLinks,
): RenderedEmail {
  const language = ack.language ?? 'en';
  const parts = partsOf(ack, language);
  return fillEmail(layoutIn(layouts, 'acknowledgement', language), {
    ack: {
      subject: replySubject(ack.replyToSubject),
      first_name: ack.firstName,
      // The preheader: each language's line, Welsh first.
      message: parts.map((p) => p.message).join(' / '),
      parts,
      kicker: ack.programmeTitle ?? chromeString(language, (t) => t.ackKicker),
      question: questionScope(ack, language),
    },
    chrome: {
      progress: ack.progress ? progressLine(ack.progress, language) : '',
      unsubscribe: unsubscribeLink(links, language),
      actions: {
        stop: mailtoLink(
          links.replyAddress,
          chromeString(language, (t) => t.stop),
          actionRepliesIn(language).stop,
        ),
      },
    },
  });
}

/**
 * The acknowledgement's own sentences, one part per language (Welsh first), each with its
 * `lang`. A payload stored before `kind` existed keeps its English words as they were written.
 */
function partsOf(ack: Acknowledgement, language: LanguagePreference) {
  if (ack.kind === undefined)
    return [{ lang: 'en-GB', message: ack.message, detail: ack.detail ?? '' }];
  return languagesOf(language).map((l) => {
    const words = acknowledgementWords(l, ack.kind!, ack.facts);
    return { lang: htmlLang(l), message: words.message, detail: words.detail ?? '' };
  });
}

/** The buttons' links: the body says which button it was, the signed address what it answers. */
function questionScope(ack: Acknowledgement, language: LanguagePreference) {
  const question = ack.question;
  if (question === undefined) return { yes: '', yes_label: '', no: '', no_label: '' };
  // Worded in the reply's language from the facts; a payload from before #15 has English labels.
  const worded =
    ack.kind === 'question' && ack.facts?.action !== undefined
      ? languagesOf(language).map((l) => proposalWords(l, ack.facts!))
      : undefined;
  const join = (pick: (w: ReturnType<typeof proposalWords>) => string, english: string) =>
    worded === undefined ? english : worded.map(pick).join(' / ');
  return {
    yes: mailtoLink(
      question.yes.address,
      join((w) => w.yesSubject, `Yes: ${question.proposal}`),
      'yes',
    ),
    yes_label: join((w) => w.yesLabel, question.yes.label),
    no: mailtoLink(
      question.no.address,
      join((w) => w.noSubject, 'No, it was a note'),
      'no',
    ),
    no_label: join((w) => w.noLabel, question.no.label),
  };
}
