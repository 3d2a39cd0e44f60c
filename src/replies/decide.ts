import { DateTime } from 'luxon';
import {
  acknowledgementWords,
  proposalWords,
  type AcknowledgementFacts,
} from '../language/chrome-text.js';
import { longDate } from '../language/dates.js';
import { pauseEndsAt } from '../planner/pause.js';
import type { IntakeAnswer } from './intake.js';
import { escapeRegExp } from './quote-headers.js';
import { meansUnsubscribe } from './intent.js';
import type {
  AcknowledgementKind,
  BounceReport,
  Intent,
  IntentType,
  ManagerReplyAction,
  ReadMessage,
  RsvpReport,
} from './types.js';

/**
 * What to do with one inbound message, decided from what the reader made of it and what matching
 * found, with no database: a value the engine applies in one place and one transaction
 * (src/engine/replies.ts `applyDecision`). Every rule about what a reply means for a learner's
 * programme lives here, so it can be read, and tested, in one file.
 */

/** A delivery we sent, with the learner and enrolment a reply to it belongs to. */
export interface SentContext {
  readonly deliveryId: number;
  readonly enrolmentId: number;
  readonly enrolmentStatus: string;
  readonly learnerId: number;
  readonly learnerEmail: string;
  /** The learner's IANA zone: "pause until 3 January" starts that day on their clock. */
  readonly zone: string;
  readonly week: number;
  readonly totalWeeks: number;
  /** What was sent: a reply to the welcome may carry answers to its intake questions. */
  readonly deliveryKind?: string | undefined;
}

/** One of the people a manager manages, to find whom "Talked to Sam" is about. */
export interface TeamMember {
  readonly learnerId: number;
  readonly firstName: string;
  readonly lastName: string;
}

/** A learner's message we asked about ("Did you mean: pause for 2 weeks?"). */
export interface Proposal {
  readonly inboundId: number;
  /** What we read in it then. */
  readonly intent: Intent;
  /** Its visible text, as stored. */
  readonly text: string;
  /** Whether one of its buttons was pressed already: a second tap changes nothing. */
  readonly answered: boolean;
}

/** What matching found for a message: who it is from and what it answers. */
export type Match =
  /** A reply to a delivery we sent: by its signed Reply-To, its thread, or only its From. */
  | { readonly by: 'token' | 'thread' | 'from'; readonly sent: SentContext }
  /** A tap on a question's button, from the learner it was asked of. */
  | {
      readonly by: 'confirm';
      readonly answer: 'yes' | 'no';
      readonly sent: SentContext;
      readonly proposal: Proposal;
    }
  /** Mail to a learner's signed unsubscribe address. */
  | { readonly by: 'unsubscribe'; readonly learnerId: number }
  /** Mail to a manager's signed unsubscribe address. */
  | { readonly by: 'manager-unsubscribe'; readonly managerId: number }
  /**
   * A manager's answer: to a digest (signed address or thread), to their introduction (its
   * thread), or only from their address.
   */
  | {
      readonly by: 'manager';
      readonly managerId: number;
      readonly digestId: number | undefined;
      /** The introduction it answers; it proves the sender as a digest's thread does. */
      readonly introductionId?: number | undefined;
      readonly team: readonly TeamMember[];
    }
  /** A delivery report that proved itself: it quotes our Message-ID, for the address it names. */
  | {
      readonly by: 'bounce';
      readonly sent: SentContext;
      readonly bounce: BounceReport;
      /** Verified soft bounces of the address before this one. */
      readonly softBefore: number;
    }
  /** A calendar answer from the invited attendee. */
  | { readonly by: 'rsvp'; readonly sent: SentContext; readonly rsvp: RsvpReport }
  /** Nobody we know, or a robot's or stranger's message that proves nothing. */
  | { readonly by: 'none'; readonly why: string }
  /** A learner's signed address, from someone else. */
  | { readonly by: 'mismatch'; readonly sent: SentContext; readonly why: string };

export interface DecisionContext {
  /** The stored inbound row of this message (named in reasons and in the question's buttons). */
  readonly inboundId: number;
  readonly match: Match;
  readonly now: Date;
  /** For a learner's reply: weeks marked done before it, and whether this week is one of them. */
  readonly progress?: { readonly weeksDone: number; readonly thisWeekDone: boolean } | undefined;
  /** Acknowledgements the learner may still get today, so that two robots can never loop. */
  readonly answersLeft?: number | undefined;
  /**
   * A trainer assigned the message in `gym inbox`, having read it: its reading counts as clear.
   */
  readonly vouched?: boolean | undefined;
  /**
   * A signed (or threaded) reply to the welcome of a programme that asks intake questions: the
   * answers read in it (src/replies/intake.ts), possibly none.
   */
  readonly intake?: { readonly answers: readonly IntakeAnswer[] } | undefined;
}

export type ProgressKind = IntentType | 'rsvp' | 'intake';

/** A progress event to record. */
export interface ProgressRecord {
  readonly kind: ProgressKind;
  readonly enrolmentId: number;
  /** The delivery replied to. */
  readonly deliveryId: number;
  /** A "done" marks this week's assignment instead, when the week has one. */
  readonly assignmentWeek?: number;
  /** Always carries `week` and the learner's `text`. */
  readonly data: Readonly<Record<string, unknown>>;
  /** The message it comes from: this one, or the one a confirmation completes. */
  readonly inboundId: number;
  /** Which plan change's outcome (weeks moved, messages skipped) goes into `data` too. */
  readonly withOutcome?: boolean;
}

/** A change of plan or of consent. */
export type PlanChange =
  | { readonly type: 'pause'; readonly enrolmentId: number; readonly resumeAt: Date }
  | { readonly type: 'resume'; readonly enrolmentId: number }
  | { readonly type: 'skip'; readonly enrolmentId: number; readonly week: number }
  | { readonly type: 'stop'; readonly enrolmentId: number; readonly reason: string }
  | { readonly type: 'unsubscribe'; readonly learnerId: number; readonly how: 'mailto' | 'reply' }
  /** A verified hard bounce: the address is suppressed until someone lifts it. */
  | { readonly type: 'bounced'; readonly learnerId: number; readonly reason: string }
  | {
      readonly type: 'digest-opt-out';
      readonly managerId: number;
      readonly how: 'mailto' | 'reply';
    };

/** The threaded answer to a learner. */
export interface Answer {
  readonly kind: AcknowledgementKind;
  readonly message: string;
  readonly detail?: string | undefined;
  readonly facts?: Readonly<Record<string, string | number>> | undefined;
  /** A question: the engine signs one address per button for the message asked about. */
  readonly question?:
    | {
        readonly about: number;
        readonly proposal: string;
        readonly yesLabel: string;
        readonly noLabel: string;
      }
    | undefined;
}

export interface Decision {
  /** What happened, for the inbound row's reason and the logs. */
  readonly log: string;
  /** Parked and quarantined messages keep their bytes for a person (`gym inbox`). */
  readonly status: 'processed' | 'parked' | 'quarantined';
  /** Whom the inbound row is filed under. */
  readonly learnerId?: number | undefined;
  readonly deliveryId?: number | undefined;
  readonly events: readonly ProgressRecord[];
  readonly changes: readonly PlanChange[];
  readonly managerReply?:
    | {
        readonly managerId: number;
        readonly digestId: number | undefined;
        readonly learnerId: number | undefined;
        readonly action: ManagerReplyAction;
        readonly text: string;
      }
    | undefined;
  readonly answer?: Answer | undefined;
  /**
   * Answers to the welcome's intake questions, for the engine to write into the profile. It
   * re-runs the matcher and may move the learner to another programme only when `mayMove` (the
   * same reply did not also change the plan) and no programme step has been sent yet.
   */
  readonly intake?:
    | {
        readonly enrolmentId: number;
        readonly learnerId: number;
        readonly deliveryId: number;
        readonly answers: readonly IntakeAnswer[];
        readonly mayMove: boolean;
      }
    | undefined;
}

/** Commands that change the programme: only a reply carrying the learner's signed token gives them. */
const commands: ReadonlySet<IntentType> = new Set(['stop', 'pause', 'skip', 'resume']);

const nothing = { events: [], changes: [] } as const;

/**
 * Decides what one inbound human reply means, from the reading and the match.
 *
 * @example decide(read, { inboundId: 7, match: { by: 'token', sent }, now, progress, answersLeft: 3 })
 *   // { status: 'processed', log: 'week 3 done', events: [{ kind: 'done', ... }], changes: [],
 *   //   answer: { kind: 'done', message: "Logged: week 3 done. That's 3 of 12." } }
 */
export function decide(message: ReadMessage, context: DecisionContext): Decision {
  const { match } = context;
  // Out-of-office and other robots never count as progress and are never answered.
  if (message.kind === 'auto_reply')
    return { ...nothing, status: 'processed', log: message.evidence };
  const reading = message.intent ?? { type: 'empty' };
  switch (match.by) {
    case 'bounce':
      return decideBounce(match);
    case 'rsvp':
      return {
        status: 'processed',
        log: `RSVP ${match.rsvp.partstat}`,
        learnerId: match.sent.learnerId,
        deliveryId: match.sent.deliveryId,
        changes: [],
        events: [
          {
            kind: 'rsvp',
            enrolmentId: match.sent.enrolmentId,
            deliveryId: match.sent.deliveryId,
            inboundId: context.inboundId,
            data: {
              week: match.sent.week,
              partstat: match.rsvp.partstat,
              attendee: match.rsvp.attendee,
              sequence: match.rsvp.sequence,
            },
          },
        ],
      };
    case 'none':
      return { ...nothing, status: 'parked', log: match.why };
    case 'manager-unsubscribe':
      return {
        status: 'processed',
        log: 'manager unsubscribe address: no more digests',
        events: [],
        changes: [{ type: 'digest-opt-out', managerId: match.managerId, how: 'mailto' }],
      };
    case 'manager':
      return decideForManager(message, reading, match);
    case 'unsubscribe':
      return {
        status: 'processed',
        log: 'unsubscribe address',
        learnerId: match.learnerId,
        events: [],
        changes: [{ type: 'unsubscribe', learnerId: match.learnerId, how: 'mailto' }],
      };
    case 'mismatch':
      return {
        ...nothing,
        status: 'quarantined',
        log: match.why.replace('<id>', String(context.inboundId)),
        learnerId: match.sent.learnerId,
        deliveryId: match.sent.deliveryId,
      };
    case 'confirm':
      return decideConfirmation(match, context);
    case 'token':
    case 'thread':
    case 'from':
      break;
  }
  const { sent } = match;
  const filed = { learnerId: sent.learnerId, deliveryId: sent.deliveryId };
  if (commands.has(reading.type) && match.by !== 'token' && context.vouched !== true) {
    return {
      ...nothing,
      ...filed,
      status: 'quarantined',
      log:
        `"${reading.type}" changes the programme, and this reply does not carry the learner's ` +
        `signed address (matched by ${match.by}); if it is theirs, run gym inbox assign ${context.inboundId} ${sent.learnerEmail}`,
    };
  }
  const acted = effectOf(reading, message.text, sent, context, context.inboundId);
  const probable = message.confidence === 'probable' && context.vouched !== true;
  if (probable && acted.changes.length > 0)
    return withIntake(ask(reading, message.text, sent, context), reading, sent, context);
  return withAnswerLimit(
    withIntake({ ...acted, ...filed, status: 'processed' }, reading, sent, context),
    context,
  );
}

/** Readings that are the answers themselves: "2) 3" is no rating, "1. policy" no reflection. */
const answerLike: ReadonlySet<IntentType> = new Set(['done', 'rating', 'reflection', 'empty']);

/**
 * A reply to the welcome with answers to its intake questions. Consent comes first: a reply that
 * also says stop or unsubscribe does that, and its answers are not kept. One that also pauses,
 * skips or resumes (or may mean to) does that too, and its answers update the profile without
 * moving the learner to another programme. Otherwise the answers are the reply: acknowledged with
 * what was recorded, and the matcher may choose again (the engine decides whether it can).
 */
function withIntake(
  decision: Decision,
  reading: Intent,
  sent: SentContext,
  context: DecisionContext,
): Decision {
  const answers = context.intake?.answers ?? [];
  if (answers.length === 0) return decision;
  const consent = decision.changes.some((c) => c.type === 'stop' || c.type === 'unsubscribe');
  if (consent || reading.type === 'stop') return decision;
  const recorded = answers.map((a) => `${a.field} ${[a.value].flat().join(', ')}`).join('; ');
  const said = answers.map((a) => `${a.index + 1}: ${a.label}`).join(', ');
  const intake = {
    enrolmentId: sent.enrolmentId,
    learnerId: sent.learnerId,
    deliveryId: sent.deliveryId,
    answers,
  };
  const asked = decision.answer?.kind === 'question';
  if (decision.changes.length > 0 || asked)
    return {
      ...decision,
      log: `${decision.log}; intake answers recorded (${recorded}), programme not re-matched`,
      intake: { ...intake, mayMove: false },
      answer: alsoAnswered(decision.answer, said),
    };
  const replaced = answerLike.has(reading.type);
  return {
    ...decision,
    log: replaced ? `intake answers: ${recorded}` : `${decision.log}; intake answers: ${recorded}`,
    events: replaced ? [] : decision.events,
    intake: { ...intake, mayMove: true },
    answer: replaced ? answerOf('intake', { answers: said }) : alsoAnswered(decision.answer, said),
  };
}

/** The answer to the command that came with intake answers, confirming the answers too. */
function alsoAnswered(answer: Answer | undefined, said: string): Answer | undefined {
  if (answer === undefined) return undefined;
  return answerOf(answer.kind, { ...answer.facts, answers: said });
}

/** What acting on a reading does, before the question of whether to act at all. */
interface Effect {
  readonly log: string;
  readonly events: readonly ProgressRecord[];
  readonly changes: readonly PlanChange[];
  readonly answer?: Answer;
}

function effectOf(
  intent: Intent,
  text: string,
  sent: SentContext,
  context: DecisionContext,
  inboundId: number,
): Effect {
  const { week, enrolmentId } = sent;
  const event = (
    kind: IntentType,
    data: Record<string, unknown> = {},
    extra: Partial<ProgressRecord> = {},
  ): ProgressRecord => ({
    kind,
    data: { week, text: text.slice(0, 4000), ...data },
    enrolmentId,
    deliveryId: sent.deliveryId,
    inboundId,
    ...extra,
  });
  const ended = sent.enrolmentStatus === 'completed' || sent.enrolmentStatus === 'stopped';
  const endedEffect = (kind: 'pause' | 'resume' | 'skip'): Effect => {
    return {
      log: `${kind} ignored: the enrolment is ${sent.enrolmentStatus}`,
      events: [event(kind, { ignored: `the enrolment is ${sent.enrolmentStatus}` })],
      changes: [],
      answer: answerOf('ended', { action: kind, status: sent.enrolmentStatus }),
    };
  };

  switch (intent.type) {
    case 'done': {
      const before = context.progress ?? { weeksDone: 0, thisWeekDone: false };
      const done = before.weeksDone + (before.thisWeekDone ? 0 : 1);
      return {
        log: `week ${week} done`,
        events: [event('done', {}, { assignmentWeek: week })],
        changes: [],
        answer: answerOf('done', { week, done, total: sent.totalWeeks }),
      };
    }
    case 'too_hard':
      return {
        log: `too hard in week ${week}: flagged for the trainer`,
        events: [event('too_hard', { flagged: true })],
        changes: [],
        answer: answerOf('too_hard', { week }),
      };
    case 'help':
      // The footer of every email promises that "help" lists what one can reply.
      return {
        log: `asked for help in week ${week}: flagged for the trainer`,
        events: [event('help', { flagged: true })],
        changes: [],
        answer: answerOf('help'),
      };
    case 'rating':
      return {
        log: `rated ${intent.rating}/5`,
        events: [event('rating', { rating: intent.rating })],
        changes: [],
        answer: answerOf('rating', { rating: intent.rating }),
      };
    case 'reflection':
      return {
        log: `reflection for week ${week}`,
        events: [event('reflection')],
        changes: [],
        answer: answerOf('reflection', { week }),
      };
    case 'empty':
      return { log: 'an empty reply', events: [event('empty')], changes: [] };
    case 'pause': {
      if (ended) return endedEffect('pause');
      const resumeAt = pauseEndsAt(intent, sent.zone, context.now);
      const until = longDate(resumeAt, sent.zone, 'en');
      return {
        log: `paused until ${until}`,
        events: [event('pause', { until: resumeAt.toISOString() }, { withOutcome: true })],
        changes: [{ type: 'pause', enrolmentId, resumeAt }],
        answer: answerOf('pause', { until: isoDay(resumeAt, sent.zone) }),
      };
    }
    case 'resume': {
      if (sent.enrolmentStatus === 'stopped') {
        // Never dropped: they are told how to come back, and the trainer sees that they asked.
        return {
          log: 'resume after a stop: told how to rejoin, flagged for the trainer',
          events: [
            event('resume', { ignored: 'the enrolment is stopped', rejoin: true, flagged: true }),
          ],
          changes: [],
          answer: answerOf('rejoin'),
        };
      }
      if (ended) return endedEffect('resume');
      return {
        log: 'resumed',
        events: [event('resume', {}, { withOutcome: true })],
        changes: [{ type: 'resume', enrolmentId }],
        answer: answerOf('resume'),
      };
    }
    case 'skip':
      if (ended) return endedEffect('skip');
      return {
        log: `skipped the rest of week ${week}`,
        events: [event('skip', {}, { withOutcome: true })],
        changes: [{ type: 'skip', enrolmentId, week }],
        answer: answerOf('skip', { week }),
      };
    case 'stop':
      if (meansUnsubscribe(text)) {
        // "Unsubscribe", not "stop": no more mail from us at all, so no acknowledgement either.
        return {
          log: 'unsubscribed: no more mail from Digital Gym',
          events: [event('stop', { unsubscribe: true })],
          changes: [{ type: 'unsubscribe', learnerId: sent.learnerId, how: 'reply' }],
        };
      }
      return {
        log: 'stopped the programme',
        events: [event('stop')],
        changes: [{ type: 'stop', enrolmentId, reason: 'the learner replied stop' }],
        answer: answerOf('stop'),
      };
  }
}

/**
 * A probable command asks before it acts, and is not filed as a reflection either: the buttons'
 * answer completes it. A question that cannot be sent today (the day's answers are used up) is
 * held for the trainer rather than dropped: a stop must never be ignored.
 */
function ask(intent: Intent, text: string, sent: SentContext, context: DecisionContext): Decision {
  const facts = proposalFacts(intent, text, sent, context.now);
  const { proposal, yesLabel, noLabel } = proposalWords('en', facts);
  const filed = { learnerId: sent.learnerId, deliveryId: sent.deliveryId };
  if ((context.answersLeft ?? 1) <= 0) {
    return {
      ...nothing,
      ...filed,
      status: 'parked',
      log:
        `the reply may mean "${proposal}", but it is not clear, and no more answers may go to ` +
        `${sent.learnerEmail} today to ask; nothing was changed. If it means that, run gym inbox assign ${context.inboundId} ${sent.learnerEmail}`,
    };
  }
  return {
    ...nothing,
    ...filed,
    status: 'processed',
    log: `asked: did you mean ${proposal}? (nothing changed yet)`,
    answer: {
      ...answerOf('question', facts),
      question: { about: context.inboundId, proposal, yesLabel, noLabel },
    },
  };
}

/**
 * What a question proposes, as facts its wording is made from in each language
 * (src/language/chrome-text.ts): the action, and its span, date or week. `proposal` is the
 * English words, kept for the trainer's view of the stored answer.
 */
function proposalFacts(
  intent: Intent,
  text: string,
  sent: SentContext,
  now: Date,
): AcknowledgementFacts {
  const facts = (extra: Record<string, string | number>): AcknowledgementFacts => {
    const withAction = { action: intent.type, ...extra };
    return { ...withAction, proposal: proposalWords('en', withAction).proposal };
  };
  switch (intent.type) {
    case 'pause':
      // A date is named as the day it ends on; a span as the span, counted from the "yes".
      if (intent.until !== undefined)
        return facts({ until: isoDay(pauseEndsAt(intent, sent.zone, now), sent.zone) });
      return facts({ weeks: intent.weeks ?? 1 });
    case 'skip':
      return facts({ week: sent.week });
    case 'stop':
      return facts(meansUnsubscribe(text) ? { unsubscribe: 1 } : {});
    default:
      return facts({});
  }
}

/**
 * A tap on a question's button. "Yes" does what the first message asked, as of now; "no" files
 * that message as the note it was. Only the first tap counts.
 */
function decideConfirmation(
  match: Extract<Match, { by: 'confirm' }>,
  context: DecisionContext,
): Decision {
  const { sent, proposal } = match;
  const filed = { learnerId: sent.learnerId, deliveryId: sent.deliveryId };
  if (proposal.answered) {
    return withAnswerLimit(
      {
        ...nothing,
        ...filed,
        status: 'processed',
        log: `a second answer (${match.answer}) to the question about message ${proposal.inboundId}: nothing changed`,
        answer: answerOf('already-answered'),
      },
      context,
    );
  }
  if (match.answer === 'no') {
    const note = effectOf({ type: 'reflection' }, proposal.text, sent, context, proposal.inboundId);
    return withAnswerLimit(
      {
        ...note,
        ...filed,
        status: 'processed',
        log: `answered no: message ${proposal.inboundId} kept as a reflection`,
        answer: answerOf('not-changed', { week: sent.week }),
      },
      context,
    );
  }
  const acted = effectOf(proposal.intent, proposal.text, sent, context, proposal.inboundId);
  return withAnswerLimit(
    {
      ...acted,
      ...filed,
      status: 'processed',
      log: `answered yes to the question about message ${proposal.inboundId}: ${acted.log}`,
    },
    context,
  );
}

/**
 * A verified hard bounce (5.x.x) suppresses the address until `gym learner resubscribe`; a soft
 * one (4.x.x: a full mailbox, a server down for the night) is counted, and mail goes on.
 */
function decideBounce(match: Extract<Match, { by: 'bounce' }>): Decision {
  const { bounce, sent } = match;
  const filed = { learnerId: sent.learnerId, deliveryId: sent.deliveryId };
  const words = `${bounce.status}${bounce.diagnostic ? ` ${bounce.diagnostic}` : ''}`.slice(0, 300);
  if (bounce.hard) {
    const reason = `hard bounce ${words}`;
    return {
      ...filed,
      status: 'processed',
      log: reason,
      events: [],
      changes: [{ type: 'bounced', learnerId: sent.learnerId, reason }],
    };
  }
  return {
    ...nothing,
    ...filed,
    status: 'processed',
    log: `soft bounce ${words} (${match.softBefore + 1} for this address; mail goes on)`,
  };
}

function decideForManager(
  message: ReadMessage,
  reading: Intent,
  match: Extract<Match, { by: 'manager' }>,
): Decision {
  // "Stop", "remove me", "unsubscribe": a manager's no ends the digests, never a learner's
  // programme, and it is never counted as engagement. Probable or clear, the same: ending digests
  // is what a manager who might have meant it wants, and their people's programmes go on.
  const wantsOut = reading.type === 'stop' || meansUnsubscribe(message.text);
  // The introduction is the first mail a manager gets from us: answering it is answering us, and
  // its "remove me" counts exactly as a digest's.
  const proven = match.digestId !== undefined || match.introductionId !== undefined;
  if (wantsOut && !proven) {
    // Only From says who it is, which anyone can write: held, like a learner's command.
    return {
      ...nothing,
      status: 'quarantined',
      log:
        "a manager's stop without a digest's signed address or the thread of a digest or " +
        'introduction sent to them; if it is theirs, run ' +
        `gym learner suppress ${message.from ?? 'EMAIL'} --scope digests`,
    };
  }
  if (wantsOut) {
    return {
      status: 'processed',
      log: `the manager replied stop to ${match.digestId !== undefined ? 'a digest' : 'their introduction'}: no more digests`,
      events: [],
      changes: [{ type: 'digest-opt-out', managerId: match.managerId, how: 'reply' }],
    };
  }
  const learner = personNamed(message.text, match.team);
  const action = managerAction(message.text);
  return {
    ...nothing,
    status: 'processed',
    log: `manager ${action}${learner ? ` (${learner.firstName} ${learner.lastName})` : ''}`,
    managerReply: {
      managerId: match.managerId,
      digestId: match.digestId,
      learnerId: learner?.learnerId,
      action,
      text: message.text.slice(0, 2000),
    },
  };
}

/** "Talked to Sam", "Helped Sam get YouTube unblocked": a manager's engagement, about whom. */
export function managerAction(text: string): ManagerReplyAction {
  const words = text.slice(0, 500).toLowerCase();
  if (/\b(talked|talk|spoke|spoken|chatted|met|caught up|discussed)\b/.test(words)) return 'talked';
  if (/\b(helped|unblocked|sorted|booked|protected|arranged|made time|asked it)\b/.test(words))
    return 'helped';
  return 'note';
}

/** The full name first ("Sam Jones"), then a first name alone, when only one person has it. */
function personNamed(text: string, team: readonly TeamMember[]): TeamMember | undefined {
  const words = text.toLowerCase();
  const byFullName = team.find((m) => words.includes(`${m.firstName} ${m.lastName}`.toLowerCase()));
  const byFirstName = team.filter((m) =>
    // Not \b: it is ASCII-only, and "Siobhán" ends in a letter it does not know.
    new RegExp(`(?<!\\p{L})${escapeRegExp(m.firstName.toLowerCase())}(?!\\p{L})`, 'u').test(words),
  );
  return byFullName ?? (byFirstName.length === 1 ? byFirstName[0] : undefined);
}

/** An acknowledgement beyond the day's allowance is not sent; what it confirms still happens. */
function withAnswerLimit(decision: Decision, context: DecisionContext): Decision {
  if (decision.answer === undefined || (context.answersLeft ?? 1) > 0) return decision;
  return { ...decision, answer: undefined };
}

/** The day an instant falls on, on the learner's calendar: "2027-01-25". */
function isoDay(at: Date, zone: string): string {
  return DateTime.fromJSDate(at, { zone }).toISODate() ?? '';
}

/**
 * The threaded answer of one kind: its English words from the one table of acknowledgement
 * wording (src/language/chrome-text.ts); the renderer words it again in the reply's language.
 */
function answerOf(kind: Answer['kind'], facts: AcknowledgementFacts = {}): Answer {
  const words = acknowledgementWords('en', kind, facts);
  return {
    kind,
    message: words.message,
    ...(words.detail === undefined ? {} : { detail: words.detail }),
    ...(Object.keys(facts).length === 0 ? {} : { facts }),
  };
}
