/**
 * What the reply reader makes of one inbound message, before any database is involved.
 * `gym reply inspect` prints it; the reply handler (src/engine/replies.ts) acts on it.
 */

/** What kind of message it is, decided from headers and structure before the body is read. */
export type InboundKind = 'reply' | 'auto_reply' | 'bounce' | 'rsvp';

/** What a learner's reply asks for. `until` is a calendar date `YYYY-MM-DD`. */
export type Intent =
  | { readonly type: 'done' }
  | { readonly type: 'too_hard' }
  | { readonly type: 'pause'; readonly weeks?: number; readonly until?: string }
  | { readonly type: 'resume' }
  | { readonly type: 'skip' }
  | { readonly type: 'stop' }
  | { readonly type: 'help' }
  | { readonly type: 'rating'; readonly rating: number }
  | { readonly type: 'reflection' }
  | { readonly type: 'empty' };

export type IntentType = Intent['type'];

/**
 * How sure the reader is. A clear command acts; a probable one that would change the programme
 * (stop, unsubscribe, pause, skip, resume) is asked about before anything changes.
 */
export type IntentConfidence = 'clear' | 'probable';

/** A delivery status notification (RFC 3464) about a message we sent. */
export interface BounceReport {
  /** The DSN status code, `5.1.1`; 5.x.x is a hard bounce, 4.x.x a soft one. */
  readonly status: string;
  readonly hard: boolean;
  /** The address that could not be reached (Final-Recipient or Original-Recipient). */
  readonly recipient: string | undefined;
  /** Our Message-ID of the bounced message, `<...>`, when the report quotes it. */
  readonly originalMessageId: string | undefined;
  /** The remote server's words (Diagnostic-Code), for the trainer. */
  readonly diagnostic: string | undefined;
}

/** A calendar reply (iTIP METHOD:REPLY) to one of our invites. */
export interface RsvpReport {
  readonly uid: string;
  /** ACCEPTED, DECLINED, TENTATIVE, ... upper case. */
  readonly partstat: string;
  /** The attendee's address, lower case, without `mailto:`. */
  readonly attendee: string | undefined;
  readonly sequence: number;
}

/** The message's envelope facts the matcher needs, normalised. */
export interface InboundEnvelope {
  /** `<id@host>` as written, or undefined when the message has none. */
  readonly messageId: string | undefined;
  readonly date: Date | undefined;
  /** The sender's address, lower case. */
  readonly from: string | undefined;
  readonly fromName: string | undefined;
  readonly subject: string;
  /** Every address of To, Cc, Delivered-To and X-Original-To, lower case, in that order. */
  readonly recipients: readonly string[];
  /** In-Reply-To then References, each `<...>`, newest first, no duplicates. */
  readonly threadIds: readonly string[];
}

export interface ReadMessage extends InboundEnvelope {
  readonly kind: InboundKind;
  /** Why it was classified so (`Auto-Submitted: auto-replied`, `subject "Out of Office"`). */
  readonly evidence: string;
  /** The learner's own words: quoted history and signatures removed. '' for non-replies. */
  readonly text: string;
  /** Only for a human reply. */
  readonly intent: Intent | undefined;
  /** Only for a human reply: how sure the reading of `intent` is. */
  readonly confidence: IntentConfidence | undefined;
  /** The language the learner wrote in (`en`, `cy`, `de`, ...), when the reader could tell. */
  readonly language: string | undefined;
  readonly bounce: BounceReport | undefined;
  readonly rsvp: RsvpReport | undefined;
}

/** What a manager's answer to a digest says they did: engagement the report counts. */
export type ManagerReplyAction = 'talked' | 'helped' | 'note';

/**
 * What an acknowledgement answers, so that a renderer can say it in the learner's language from
 * `kind` and `facts` (the English `message` and `detail` are kept for the shipped layout and for
 * payloads stored before `kind` existed).
 */
export type AcknowledgementKind =
  | 'done'
  | 'too_hard'
  | 'help'
  | 'rating'
  | 'reflection'
  | 'pause'
  | 'resume'
  | 'skip'
  | 'stop'
  | 'ended'
  | 'rejoin'
  | 'question'
  | 'not-changed'
  | 'already-answered'
  /** Answers to the welcome's intake questions, recorded (#14 §2). */
  | 'intake';

/**
 * A one-tap question about a probable command: "Did you mean: pause for 2 weeks?", with two
 * buttons, each a `mailto:` to a signed address that completes (or drops) the proposal.
 */
export interface AcknowledgementQuestion {
  /** The change we would make, in words: "pause for 2 weeks". */
  readonly proposal: string;
  readonly yes: { readonly label: string; readonly address: string };
  readonly no: { readonly label: string; readonly address: string };
}

/** The content of an acknowledgement delivery, decided when the reply was read. */
export interface AcknowledgementPayload {
  readonly message: string;
  readonly detail?: string | undefined;
  /** The learner's subject, answered as "Re: ...". */
  readonly subject: string;
  /** The learner's Message-ID and thread, so the answer lands in the same conversation. */
  readonly inReplyTo: string | undefined;
  readonly references: readonly string[];
  /** What it answers (absent in payloads stored before it existed). */
  readonly kind?: AcknowledgementKind | undefined;
  /** The numbers and dates in `message`, for a renderer that words it in another language. */
  readonly facts?: Readonly<Record<string, string | number>> | undefined;
  /** The language the learner wrote in (`en`, `cy`, ...), when the reader could tell. */
  readonly language?: string | undefined;
  /** Present when the answer is a question with one-tap buttons. */
  readonly question?: AcknowledgementQuestion | undefined;
}
