import {
  actionReplies,
  mailtoLink,
  progressLine,
  unsubscribeLink,
  type Progress,
  type RecipientLinks,
} from './chrome.js';
import { chromeString } from '../language/chrome-text.js';
import type { LanguagePreference } from '../language/languages.js';
import { fillEmail, type RenderedEmail } from './email.js';
import { layoutIn, type CompiledLayouts } from './layouts.js';

/** The short threaded reply that confirms what we understood from a learner's reply. */
export interface Acknowledgement {
  /** The subject of the learner's message; ours is "Re: " and that subject, in the same thread. */
  replyToSubject: string;
  /** '' when we do not know it: "Thanks." instead of "Thanks, Sam." */
  firstName: string;
  /** What we logged, one line: "Logged: done for week 3." */
  message: string;
  /** Optional second line: "Your next email arrives on Monday." */
  detail?: string | undefined;
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
   * learner's (#15). English when absent. `message` and `detail` come already written.
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
  return fillEmail(layoutIn(layouts, 'acknowledgement', language), {
    ack: {
      subject: replySubject(ack.replyToSubject),
      first_name: ack.firstName,
      message: ack.message,
      detail: ack.detail ?? '',
      kicker: ack.programmeTitle ?? chromeString(language, (t) => t.ackKicker),
      question: questionScope(ack.question),
    },
    chrome: {
      progress: ack.progress ? progressLine(ack.progress, language) : '',
      unsubscribe: unsubscribeLink(links, language),
      actions: {
        stop: mailtoLink(
          links.replyAddress,
          chromeString(language, (t) => t.stop),
          actionReplies.stop,
        ),
      },
    },
  });
}

/** The buttons' links: the body says which button it was, the signed address what it answers. */
function questionScope(question: Acknowledgement['question']) {
  if (question === undefined) return { yes: '', yes_label: '', no: '', no_label: '' };
  return {
    yes: mailtoLink(question.yes.address, `Yes: ${question.proposal}`, 'yes'),
    yes_label: question.yes.label,
    no: mailtoLink(question.no.address, 'No, it was a note', 'no'),
    no_label: question.no.label,
  };
}
