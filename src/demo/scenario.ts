/**
 * The demo's cast: what each learner of `examples/cohort.csv` writes back, and when. Pure: given
 * one message the engine sent, the replies it provokes. The demo writes each reply as a real
 * `.eml` into the inbox, where the same reader as production picks it up.
 */

/** One message the engine sent, as the demo saw it in the outbox. */
export interface SentMessage {
  readonly to: string;
  /** `w03-kickoff`; for a digest, `digest`; for an acknowledgement, `ack-…`. */
  readonly stepKey: string;
  readonly week: number;
  readonly kind:
    | 'email'
    | 'invite'
    | 'acknowledgement'
    | 'digest'
    | 'welcome'
    | 'programme_end'
    | 'introduction'
    | 'trainer_alert';
  readonly sentAt: Date;
}

export type ScriptedReply =
  | {
      readonly kind: 'reply';
      readonly after: number;
      readonly body: string;
      readonly expect: string;
    }
  | { readonly kind: 'auto_reply'; readonly after: number; readonly body: string }
  | { readonly kind: 'rsvp'; readonly after: number; readonly partstat: 'ACCEPTED' | 'DECLINED' }
  | { readonly kind: 'manager'; readonly after: number; readonly body: string };

const hours = (n: number) => n * 60 * 60 * 1000;

const reflections = [
  'Short posts with one clear ask got three times the replies of our long ones. I had always assumed the opposite.',
  'Following the neighbouring council showed me how they answer complaints in public: calmly, quickly, and once.',
  'I am less worried about getting it wrong now. Nobody noticed my first clumsy post except my manager, who liked it.',
];

type Script = (message: SentMessage) => ScriptedReply[];

const stepOf = (message: SentMessage) => message.stepKey.replace(/^w\d+-/, '');
const done = (body = 'Done!'): ScriptedReply => ({
  kind: 'reply',
  after: hours(5),
  body,
  expect: 'done',
});
const reflection = (week: number): ScriptedReply => ({
  kind: 'reply',
  after: hours(26),
  body: reflections[(week / 4 - 1) % reflections.length]!,
  expect: 'reflection',
});

/**
 * Someone who does the work every week, reflects when asked, and answers the programme-end
 * email's closing question: the programme's ideal.
 */
const steady: Script = (m) => {
  if (m.kind === 'email' && stepOf(m) === 'kickoff') return [done('Done! Took about 25 minutes.')];
  if (m.kind === 'email' && stepOf(m) === 'reflect') return [reflection(m.week)];
  if (m.kind === 'programme_end')
    return [{ kind: 'reply', after: hours(30), body: '5/5', expect: 'rating' }];
  return [];
};

const scripts: Readonly<Record<string, Script>> = {
  // Priya in Kolkata: steady, and says so.
  'priya.sharma@fcdo.gov.uk': steady,
  // Tom in New York accepts the first practice slot, gets stuck in week 3, then carries on.
  'tom.fletcher@fcdo.gov.uk': (m) => {
    if (m.kind === 'invite' && m.week === 1 && !m.stepKey.includes('.'))
      return [{ kind: 'rsvp', after: hours(2), partstat: 'ACCEPTED' }];
    if (m.kind === 'email' && stepOf(m) === 'kickoff' && m.week === 3)
      return [
        {
          kind: 'reply',
          after: hours(6),
          body: "Too hard: I couldn't get the scheduling tool past IT.",
          expect: 'too_hard',
        },
      ];
    return steady(m);
  },
  // Siobhán in Dublin is busy in week 5: she pauses for two weeks, then picks up again.
  'siobhan.obrien@fcdo.gov.uk': (m) => {
    if (m.kind === 'email' && stepOf(m) === 'kickoff' && m.week === 5)
      return [
        {
          kind: 'reply',
          after: hours(3),
          body: 'Pause for 2 weeks please, we have a consultation closing.',
          expect: 'pause',
        },
      ];
    return steady(m);
  },
  // Aisha is on leave in week 2: her out-of-office answers, and is never counted.
  'aisha.khan@businessandtrade.gov.uk': (m) => {
    if (m.kind === 'email' && stepOf(m) === 'kickoff' && m.week === 2)
      return [
        {
          kind: 'auto_reply',
          after: 60_000,
          body: 'I am out of the office until Monday with no access to email.',
        },
      ];
    return steady(m);
  },
  // Daniel never replies: the digests tell his manager he has gone quiet.
  'daniel.evans@businessandtrade.gov.uk': () => [],
  // James in Sydney accepts every practice slot and does the odd weeks.
  'james.okafor@businessandtrade.gov.uk': (m) => {
    if (m.kind === 'invite' && !m.stepKey.includes('.'))
      return [{ kind: 'rsvp', after: hours(1), partstat: 'ACCEPTED' }];
    if (m.kind === 'email' && stepOf(m) === 'kickoff' && m.week % 2 === 1) return [done()];
    return [];
  },
  // Gareth tries two weeks and decides it is not for him.
  'gareth.jones@cardiff.gov.uk': (m) => {
    if (m.kind === 'email' && stepOf(m) === 'kickoff' && m.week <= 2) return [done()];
    if (m.kind === 'email' && stepOf(m) === 'kickoff' && m.week === 3)
      return [{ kind: 'reply', after: hours(4), body: 'Stop', expect: 'stop' }];
    return [];
  },
  // Fiona, a housing officer, was matched to the default programme: she answers the welcome's
  // questions, she does her team's comms, and is moved to the comms programme before week 1.
  'fiona.campbell@cardiff.gov.uk': (m) => {
    if (m.kind === 'welcome')
      return [
        {
          kind: 'reply',
          after: hours(2),
          body: '1. I do the comms for our housing team 2) 2\n3 - time, mostly',
          expect: 'intake',
        },
      ];
    return steady(m);
  },
  // Helen, a manager, reads the digest after Tom got stuck and has a word with him.
  'helen.walsh@fcdo.gov.uk': (m) =>
    m.kind === 'digest' && m.week === 5
      ? [{ kind: 'manager', after: hours(3), body: 'Talked to Tom Fletcher about the IT block.' }]
      : [],
};

export function scriptedReplies(message: SentMessage): ScriptedReply[] {
  return scripts[message.to]?.(message) ?? [];
}
