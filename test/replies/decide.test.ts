import { describe, expect, it } from 'vitest';
import {
  decide,
  managerAction,
  type DecisionContext,
  type Match,
  type SentContext,
} from '../../src/replies/decide.js';
import type { Intent, IntentConfidence, ReadMessage } from '../../src/replies/types.js';

/*
 * decide() is pure: a reading and what matching found in, a value out. These cases pin what a
 * reply does to a learner's programme, what is recorded, and what the learner is told.
 */

const now = new Date('2027-01-11T10:00:00Z');

const sent: SentContext = {
  deliveryId: 40,
  enrolmentId: 4,
  enrolmentStatus: 'active',
  learnerId: 3,
  learnerEmail: 'sam@example.test',
  zone: 'Europe/London',
  week: 2,
  totalWeeks: 12,
};

function reply(
  text: string,
  intent: Intent | undefined,
  confidence: IntentConfidence = 'clear',
  extra: Partial<ReadMessage> = {},
): ReadMessage {
  return {
    messageId: '<r@example.test>',
    date: now,
    from: 'sam@example.test',
    fromName: 'Sam',
    subject: 'Re: Week 2',
    recipients: [],
    threadIds: [],
    kind: 'reply',
    evidence: 'a human reply',
    text,
    intent,
    confidence: intent === undefined ? undefined : confidence,
    language: 'en',
    bounce: undefined,
    rsvp: undefined,
    ...extra,
  };
}

function context(match: Match, extra: Partial<DecisionContext> = {}): DecisionContext {
  return {
    inboundId: 7,
    match,
    now,
    progress: { weeksDone: 1, thisWeekDone: false },
    answersLeft: 3,
    ...extra,
  };
}

const byToken = (over: Partial<SentContext> = {}): Match => ({
  by: 'token',
  sent: { ...sent, ...over },
});

describe('decide: a clear reading acts', () => {
  it.each([
    {
      label: 'done, counted with the weeks before it',
      intent: { type: 'done' } as Intent,
      kind: 'done',
      changes: [],
      message: "Logged: week 2 done. That's 2 of 12.",
    },
    {
      label: 'too hard, flagged for the trainer',
      intent: { type: 'too_hard' } as Intent,
      kind: 'too_hard',
      changes: [],
      message: 'Logged: week 2 feels too hard. Your trainer will get in touch to help.',
    },
    {
      label: 'a rating',
      intent: { type: 'rating', rating: 4 } as Intent,
      kind: 'rating',
      changes: [],
      message: 'Logged: you rated the programme 4 out of 5. Thank you.',
    },
    {
      label: 'a reflection',
      intent: { type: 'reflection' } as Intent,
      kind: 'reflection',
      changes: [],
      message: 'Logged: your reflection for week 2. Thank you for writing it.',
    },
    {
      label: 'skip',
      intent: { type: 'skip' } as Intent,
      kind: 'skip',
      changes: [{ type: 'skip', enrolmentId: 4, week: 2 }],
      message: 'Skipped week 2.',
    },
    {
      label: 'resume',
      intent: { type: 'resume' } as Intent,
      kind: 'resume',
      changes: [{ type: 'resume', enrolmentId: 4 }],
      message: 'Welcome back: your programme carries on from where you left off.',
    },
    {
      label: 'stop',
      intent: { type: 'stop' } as Intent,
      kind: 'stop',
      changes: [{ type: 'stop', enrolmentId: 4, reason: 'the learner replied stop' }],
      message: 'Stopped: you will get no more emails from this programme.',
    },
  ])('$label', ({ intent, kind, changes, message }) => {
    const decision = decide(reply('words', intent), context(byToken()));
    expect(decision.status).toBe('processed');
    expect(decision.changes).toEqual(changes);
    expect(decision.events.map((e) => e.kind)).toEqual([intent.type]);
    expect(decision.answer?.kind).toBe(kind);
    expect(decision.answer?.message).toBe(message);
    expect(decision.answer?.question).toBeUndefined();
  });

  it('marks a "done" against the week’s assignment, and does not count a week twice', () => {
    const decision = decide(
      reply('done', { type: 'done' }),
      context(byToken(), { progress: { weeksDone: 2, thisWeekDone: true } }),
    );
    expect(decision.events[0]).toMatchObject({ kind: 'done', assignmentWeek: 2, inboundId: 7 });
    expect(decision.answer?.message).toBe("Logged: week 2 done. That's 2 of 12.");
  });

  it('flags help and too hard for the trainer, with the learner’s words', () => {
    for (const type of ['help', 'too_hard'] as const) {
      const decision = decide(reply('How do I start?', { type }), context(byToken()));
      expect(decision.events[0]?.data).toEqual({ week: 2, text: 'How do I start?', flagged: true });
    }
  });

  it('pauses until a date at the start of that day on the learner’s clock', () => {
    const decision = decide(
      reply('pause until 25 January', { type: 'pause', until: '2027-01-25' }),
      context(byToken({ zone: 'Asia/Kolkata' })),
    );
    // Midnight in Kolkata is 18:30 UTC the day before.
    expect(decision.changes).toEqual([
      { type: 'pause', enrolmentId: 4, resumeAt: new Date('2027-01-24T18:30:00Z') },
    ]);
    expect(decision.answer?.message).toBe('Paused until Monday 25 January.');
    expect(decision.events[0]).toMatchObject({ kind: 'pause', withOutcome: true });
  });

  it('pauses for a span from now, and for a week when no span was given', () => {
    const two = decide(reply('pause', { type: 'pause', weeks: 2 }), context(byToken()));
    expect(two.changes).toEqual([
      { type: 'pause', enrolmentId: 4, resumeAt: new Date('2027-01-25T10:00:00Z') },
    ]);
    const one = decide(reply('pause', { type: 'pause' }), context(byToken()));
    expect(one.changes).toEqual([
      { type: 'pause', enrolmentId: 4, resumeAt: new Date('2027-01-18T10:00:00Z') },
    ]);
  });

  it('reads "unsubscribe" as no more mail at all, and sends no answer', () => {
    const decision = decide(reply('Please unsubscribe me', { type: 'stop' }), context(byToken()));
    expect(decision.changes).toEqual([{ type: 'unsubscribe', learnerId: 3, how: 'reply' }]);
    expect(decision.answer).toBeUndefined();
  });

  it('records an empty reply without answering it', () => {
    const decision = decide(reply('', { type: 'empty' }), context(byToken()));
    expect(decision.events.map((e) => e.kind)).toEqual(['empty']);
    expect(decision.answer).toBeUndefined();
  });

  it('never counts or answers an out-of-office', () => {
    const decision = decide(
      reply('', undefined, 'clear', {
        kind: 'auto_reply',
        evidence: 'Auto-Submitted: auto-replied',
      }),
      context(byToken()),
    );
    expect(decision).toMatchObject({ status: 'processed', events: [], changes: [] });
    expect(decision.answer).toBeUndefined();
  });

  it('sends no more answers once the day’s are used up, but still records', () => {
    const decision = decide(
      reply('done', { type: 'done' }),
      context(byToken(), { answersLeft: 0 }),
    );
    expect(decision.events).toHaveLength(1);
    expect(decision.answer).toBeUndefined();
  });
});

describe('decide: a command needs the learner’s signed address', () => {
  it.each(['thread', 'from'] as const)('holds a stop matched by %s for the trainer', (by) => {
    const decision = decide(reply('stop', { type: 'stop' }), context({ by, sent }));
    expect(decision.status).toBe('quarantined');
    expect(decision.changes).toEqual([]);
    expect(decision.log).toContain('gym inbox assign 7 sam@example.test');
  });

  it('takes a "done" from the thread alone', () => {
    const decision = decide(reply('done', { type: 'done' }), context({ by: 'thread', sent }));
    expect(decision.status).toBe('processed');
  });

  it('holds a learner’s signed address written from someone else', () => {
    const decision = decide(
      reply('stop', { type: 'stop' }),
      context({ by: 'mismatch', sent, why: 'not theirs; run gym inbox assign <id> x' }),
    );
    expect(decision).toMatchObject({
      status: 'quarantined',
      log: 'not theirs; run gym inbox assign 7 x',
    });
    expect(decision.changes).toEqual([]);
  });

  it('parks mail from nobody we know', () => {
    const decision = decide(
      reply('hi', { type: 'reflection' }),
      context({ by: 'none', why: 'who?' }),
    );
    expect(decision).toMatchObject({ status: 'parked', log: 'who?', events: [], changes: [] });
  });
});

describe('decide: a probable command asks, and neither acts nor files a reflection', () => {
  it.each<{ text: string; intent: Intent; proposal: string; yes: string }>([
    {
      text: "I'm off sick this week",
      intent: { type: 'pause', weeks: 1 },
      proposal: 'pause for 1 week',
      yes: 'Yes, pause',
    },
    {
      text: 'Maybe pause for 2 weeks?',
      intent: { type: 'pause', weeks: 2 },
      proposal: 'pause for 2 weeks',
      yes: 'Yes, pause',
    },
    {
      text: "I'm on leave until 25 January",
      intent: { type: 'pause', until: '2027-01-25' },
      proposal: 'pause until Monday 25 January',
      yes: 'Yes, pause',
    },
    {
      text: 'I think I might need to drop out',
      intent: { type: 'stop' },
      proposal: 'stop this programme',
      yes: 'Yes, stop it',
    },
    {
      text: 'Maybe just unsubscribe me?',
      intent: { type: 'stop' },
      proposal: 'unsubscribe from all Digital Gym emails',
      yes: 'Yes, unsubscribe me',
    },
    {
      text: 'I might skip this one',
      intent: { type: 'skip' },
      proposal: 'skip the rest of week 2',
      yes: 'Yes, skip it',
    },
    {
      text: 'I think I could come back now',
      intent: { type: 'resume' },
      proposal: 'resume your programme now',
      yes: 'Yes, resume',
    },
  ])('"$text" asks: did you mean $proposal?', ({ text, intent, proposal, yes }) => {
    const decision = decide(reply(text, intent, 'probable'), context(byToken()));
    expect(decision.status).toBe('processed');
    expect(decision.changes).toEqual([]);
    expect(decision.events).toEqual([]);
    expect(decision.answer).toMatchObject({
      kind: 'question',
      message: `Did you mean: ${proposal}?`,
      question: { about: 7, proposal, yesLabel: yes, noLabel: 'No, it was a note' },
    });
    expect(decision.log).toBe(`asked: did you mean ${proposal}? (nothing changed yet)`);
  });

  it('acts on a probable reading that changes nothing (a "done" is never asked about)', () => {
    const decision = decide(
      reply('all sorted I think', { type: 'done' }, 'probable'),
      context(byToken()),
    );
    expect(decision.answer?.kind).toBe('done');
  });

  it('holds a question it may not send today for the trainer, never drops it', () => {
    const decision = decide(
      reply('I think I might need to drop out', { type: 'stop' }, 'probable'),
      context(byToken(), { answersLeft: 0 }),
    );
    expect(decision.status).toBe('parked');
    expect(decision.changes).toEqual([]);
    expect(decision.log).toContain('may mean "stop this programme"');
    expect(decision.log).toContain('gym inbox assign 7 sam@example.test');
  });

  it('acts when a trainer vouched for the message in gym inbox', () => {
    const decision = decide(
      reply('I think I might need to drop out', { type: 'stop' }, 'probable'),
      context({ by: 'from', sent }, { vouched: true }),
    );
    expect(decision.changes).toEqual([
      { type: 'stop', enrolmentId: 4, reason: 'the learner replied stop' },
    ]);
  });
});

describe('decide: the answer to a question completes it', () => {
  const proposal = {
    inboundId: 5,
    intent: { type: 'pause', weeks: 2 } as Intent,
    text: 'Maybe pause for 2 weeks?',
    answered: false,
  };
  const tap = reply('yes', { type: 'reflection' });

  it('"yes" applies the proposal as of now, recorded against the message asked about', () => {
    const decision = decide(tap, context({ by: 'confirm', answer: 'yes', sent, proposal }));
    expect(decision.changes).toEqual([
      { type: 'pause', enrolmentId: 4, resumeAt: new Date('2027-01-25T10:00:00Z') },
    ]);
    expect(decision.events).toMatchObject([
      { kind: 'pause', inboundId: 5, data: { text: 'Maybe pause for 2 weeks?' } },
    ]);
    expect(decision.answer?.message).toBe('Paused until Monday 25 January.');
    expect(decision.log).toBe(
      'answered yes to the question about message 5: paused until Monday 25 January',
    );
  });

  it('"yes" to a stop stops; to an unsubscribe, unsubscribes', () => {
    const stop = decide(
      tap,
      context({
        by: 'confirm',
        answer: 'yes',
        sent,
        proposal: { ...proposal, intent: { type: 'stop' }, text: 'drop out?' },
      }),
    );
    expect(stop.changes).toEqual([
      { type: 'stop', enrolmentId: 4, reason: 'the learner replied stop' },
    ]);
    const unsubscribe = decide(
      tap,
      context({
        by: 'confirm',
        answer: 'yes',
        sent,
        proposal: { ...proposal, intent: { type: 'stop' }, text: 'maybe unsubscribe me' },
      }),
    );
    expect(unsubscribe.changes).toEqual([{ type: 'unsubscribe', learnerId: 3, how: 'reply' }]);
  });

  it('"no" files the original as a reflection and changes nothing', () => {
    const decision = decide(tap, context({ by: 'confirm', answer: 'no', sent, proposal }));
    expect(decision.changes).toEqual([]);
    expect(decision.events).toEqual([
      expect.objectContaining({ kind: 'reflection', inboundId: 5 }),
    ]);
    expect(decision.answer?.kind).toBe('not-changed');
  });

  it('a second tap changes nothing', () => {
    for (const answer of ['yes', 'no'] as const) {
      const decision = decide(
        tap,
        context({ by: 'confirm', answer, sent, proposal: { ...proposal, answered: true } }),
      );
      expect(decision.changes).toEqual([]);
      expect(decision.events).toEqual([]);
      expect(decision.answer?.kind).toBe('already-answered');
    }
  });
});

describe('decide: after the programme has ended', () => {
  it('answers a "resume" after a stop with how to rejoin, and flags it for the trainer', () => {
    const decision = decide(
      reply('resume please', { type: 'resume' }),
      context(byToken({ enrolmentStatus: 'stopped' })),
    );
    expect(decision.changes).toEqual([]);
    expect(decision.answer?.kind).toBe('rejoin');
    expect(decision.answer?.detail).toContain('To rejoin, ask your trainer');
    expect(decision.events[0]?.data).toMatchObject({ rejoin: true, flagged: true });
  });

  it.each(['pause', 'skip'] as const)('changes nothing for a %s once finished', (type) => {
    const decision = decide(
      reply(type, { type }),
      context(byToken({ enrolmentStatus: 'completed' })),
    );
    expect(decision.changes).toEqual([]);
    expect(decision.answer?.message).toBe(
      `Your programme has already finished, so there is nothing to ${type}.`,
    );
  });

  it('still acts on a pause from a paused learner (paused is not ended)', () => {
    const decision = decide(
      reply('pause', { type: 'pause', weeks: 1 }),
      context(byToken({ enrolmentStatus: 'paused' })),
    );
    expect(decision.changes).toHaveLength(1);
  });
});

describe('decide: managers', () => {
  const team = [
    { learnerId: 1, firstName: 'Sam', lastName: 'Jones' },
    { learnerId: 2, firstName: 'Aisha', lastName: 'Khan' },
  ];
  const digest: Match = { by: 'manager', managerId: 9, digestId: 12, team };

  it('reads "Talked to Sam" as engagement about Sam', () => {
    const decision = decide(
      reply('Talked to Sam yesterday', { type: 'reflection' }),
      context(digest),
    );
    expect(decision.managerReply).toEqual({
      managerId: 9,
      digestId: 12,
      learnerId: 1,
      action: 'talked',
      text: 'Talked to Sam yesterday',
    });
    expect(decision.changes).toEqual([]);
    expect(decision.log).toBe('manager talked (Sam Jones)');
  });

  it.each<[string, Intent, IntentConfidence]>([
    ['stop', { type: 'stop' }, 'clear'],
    ['Please remove me from these emails', { type: 'stop' }, 'clear'],
    ['maybe unsubscribe me', { type: 'stop' }, 'probable'],
  ])(
    '"%s" in answer to a digest is a digest opt-out, never a learner’s stop',
    (text, intent, confidence) => {
      const decision = decide(reply(text, intent, confidence), context(digest));
      expect(decision.changes).toEqual([{ type: 'digest-opt-out', managerId: 9, how: 'reply' }]);
      expect(decision.managerReply).toBeUndefined();
      expect(decision.answer).toBeUndefined();
    },
  );

  it('holds a manager’s stop that only From vouches for', () => {
    const decision = decide(
      reply('stop', { type: 'stop' }),
      context({ by: 'manager', managerId: 9, digestId: undefined, team }),
    );
    expect(decision.status).toBe('quarantined');
    expect(decision.changes).toEqual([]);
  });

  it('a manager’s unsubscribe address ends the digests', () => {
    const decision = decide(
      reply('', { type: 'empty' }),
      context({ by: 'manager-unsubscribe', managerId: 9 }),
    );
    expect(decision.changes).toEqual([{ type: 'digest-opt-out', managerId: 9, how: 'mailto' }]);
  });

  it.each([
    ['Talked to Sam about it', 'talked'],
    ['Helped Aisha get YouTube unblocked', 'helped'],
    ['Thanks for the update', 'note'],
  ] as const)('managerAction(%j) is %s', (text, action) => {
    expect(managerAction(text)).toBe(action);
  });
});

describe('decide: bounces and calendar answers', () => {
  const report = {
    status: '5.1.1',
    hard: true,
    recipient: 'sam@example.test',
    originalMessageId: '<x@gym>',
    diagnostic: 'no such user',
  };

  it('suppresses the address on a verified hard bounce', () => {
    const decision = decide(
      reply('', undefined, 'clear', { kind: 'bounce' }),
      context({ by: 'bounce', sent, bounce: report, softBefore: 0 }),
    );
    expect(decision.changes).toEqual([
      { type: 'bounced', learnerId: 3, reason: 'hard bounce 5.1.1 no such user' },
    ]);
  });

  it('counts a soft bounce and changes nothing', () => {
    const decision = decide(
      reply('', undefined, 'clear', { kind: 'bounce' }),
      context({
        by: 'bounce',
        sent,
        bounce: { ...report, status: '4.2.2', hard: false, diagnostic: undefined },
        softBefore: 2,
      }),
    );
    expect(decision.changes).toEqual([]);
    expect(decision.log).toBe('soft bounce 4.2.2 (3 for this address; mail goes on)');
  });

  it('records a calendar answer against the invite', () => {
    const decision = decide(
      reply('', undefined, 'clear', { kind: 'rsvp' }),
      context({
        by: 'rsvp',
        sent,
        rsvp: { uid: 'u', partstat: 'ACCEPTED', attendee: 'sam@example.test', sequence: 0 },
      }),
    );
    expect(decision.events).toMatchObject([
      { kind: 'rsvp', deliveryId: 40, data: { partstat: 'ACCEPTED' } },
    ]);
    expect(decision.log).toBe('RSVP ACCEPTED');
  });
});

describe('a reply to the welcome with intake answers', () => {
  const welcome: Match = { by: 'token', sent: { ...sent, week: 1, deliveryKind: 'welcome' } };
  const answers = [
    { index: 0, field: 'role', value: 'policy-officer', said: 'policy', label: 'Policy' },
    { index: 1, field: 'confidence', value: 3, said: '3', label: '3' },
  ];
  const withAnswers = (match: Match = welcome) => context(match, { intake: { answers } });

  it('are the reply when it reads as a rating or a note: acknowledged with what was recorded, and may move', () => {
    const decision = decide(reply('1. policy 2) 3', { type: 'rating', rating: 3 }), withAnswers());
    expect(decision.events).toEqual([]);
    expect(decision.intake).toMatchObject({ enrolmentId: 4, learnerId: 3, mayMove: true });
    expect(decision.answer).toEqual({
      kind: 'intake',
      message: 'Thank you: we recorded your answers: 1: Policy, 2: 3.',
      facts: { answers: '1: Policy, 2: 3' },
    });
    expect(decision.log).toBe('intake answers: role policy-officer; confidence 3');
  });

  it('a pause in the same reply pauses, and records the answers without moving', () => {
    const decision = decide(
      reply('pause for 2 weeks\n1. policy', { type: 'pause', weeks: 2 }),
      withAnswers(),
    );
    expect(decision.changes.map((c) => c.type)).toEqual(['pause']);
    expect(decision.intake?.mayMove).toBe(false);
    expect(decision.answer?.detail).toContain('We also recorded your answers: 1: Policy, 2: 3.');
  });

  it('a stop in the same reply stops, and keeps no answers: consent first', () => {
    const decision = decide(reply('stop\n1. policy', { type: 'stop' }), withAnswers());
    expect(decision.changes.map((c) => c.type)).toEqual(['stop']);
    expect(decision.intake).toBeUndefined();
  });
});
