import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIntent } from '../../src/inbound/intent.js';
import type { Intent } from '../../src/inbound/types.js';
import { actionReplies } from '../../src/render/chrome.js';

// A Monday in December: "3 Jan" is next year's, "20 Dec" is today.
const sentAt = new Date('2027-12-20T10:00:00Z');
const read = (text: string): Intent => parseIntent(text, { sentAt });

const table: [string, Intent][] = [
  // empty
  ['', { type: 'empty' }],
  ['   \n\t ', { type: 'empty' }],
  ['...', { type: 'empty' }],
  ['!!! --- ;)', { type: 'empty' }],
  // done
  ['done', { type: 'done' }],
  ['Done!', { type: 'done' }],
  ['done - thanks', { type: 'done' }],
  ['DONE.', { type: 'done' }],
  ['Done ✅', { type: 'done' }],
  ['Done 👍 thanks!', { type: 'done' }],
  ['done thanks', { type: 'done' }],
  ['Finished', { type: 'done' }],
  ['Completed.', { type: 'done' }],
  ['Did it!', { type: 'done' }],
  ['I did it', { type: 'done' }],
  ['All done :)', { type: 'done' }],
  ['Finished the assignment on Tuesday.', { type: 'done' }],
  [
    'Done, and I learned that short posts work better than long ones on our intranet.',
    { type: 'done' },
  ],
  ['Done\n\nI learned that short posts work better.', { type: 'done' }],
  ['Hi Sam,\n\nDone! It took an hour.', { type: 'done' }],
  ['please done', { type: 'done' }],
  // too hard
  ['too hard', { type: 'too_hard' }],
  ['Too hard!', { type: 'too_hard' }],
  ['This is too hard for me', { type: 'too_hard' }],
  ['Too difficult', { type: 'too_hard' }],
  ['stuck', { type: 'too_hard' }],
  ["I'm stuck", { type: 'too_hard' }],
  ['I’m stuck on step 2', { type: 'too_hard' }],
  ["can't", { type: 'too_hard' }],
  ['Cannot do this', { type: 'too_hard' }],
  ["I can't do this.", { type: 'too_hard' }],
  ['Too hard - I have no access to the CMS', { type: 'too_hard' }],
  // pause
  ['pause', { type: 'pause', weeks: 1 }],
  ['Pause please', { type: 'pause', weeks: 1 }],
  ["Pause, I'm on leave", { type: 'pause', weeks: 1 }],
  ['pause for 2 weeks', { type: 'pause', weeks: 2 }],
  ['Pause 3 weeks', { type: 'pause', weeks: 3 }],
  ['pause for a week', { type: 'pause', weeks: 1 }],
  ['pause for one week', { type: 'pause', weeks: 1 }],
  ['pause for two weeks', { type: 'pause', weeks: 2 }],
  ['Pause for three weeks please', { type: 'pause', weeks: 3 }],
  ['pause for a fortnight', { type: 'pause', weeks: 2 }],
  ['pause for a month', { type: 'pause', weeks: 4 }],
  ['pause for 2 weeks, back after the launch', { type: 'pause', weeks: 2 }],
  ['pause until 3 January', { type: 'pause', until: '2028-01-03' }],
  ['pause until 3 Jan', { type: 'pause', until: '2028-01-03' }],
  ['Pause until 3rd Jan.', { type: 'pause', until: '2028-01-03' }],
  ['pause until January 3', { type: 'pause', until: '2028-01-03' }],
  ['pause until 3/1', { type: 'pause', until: '2028-01-03' }],
  ['pause until 03/01/2028', { type: 'pause', until: '2028-01-03' }],
  ['pause until 3/1/28', { type: 'pause', until: '2028-01-03' }],
  ['pause until 2028-01-03', { type: 'pause', until: '2028-01-03' }],
  ['pause till Monday 4th January', { type: 'pause', until: '2028-01-04' }],
  ['Pause until the 4th of January 2028, thanks', { type: 'pause', until: '2028-01-04' }],
  ['pause until 31 Dec', { type: 'pause', until: '2027-12-31' }],
  ['pause until Friday', { type: 'pause', until: '2027-12-24' }],
  ['pause until Monday', { type: 'pause', until: '2027-12-27' }],
  // a date we cannot use: a pause whose length the caller decides
  ['pause until 20 Dec', { type: 'pause' }],
  ['pause until 2027-12-01', { type: 'pause' }],
  ['pause until 2029-06-01', { type: 'pause' }],
  ['pause until 31/2', { type: 'pause' }],
  ["pause until I'm back from leave", { type: 'pause' }],
  ['pause for 0 weeks', { type: 'pause' }],
  ['pause for 60 weeks', { type: 'pause' }],
  // resume
  ['resume', { type: 'resume' }],
  ['Back', { type: 'resume' }],
  ["I'm back!", { type: 'resume' }],
  ['unpause', { type: 'resume' }],
  ['Restart', { type: 'resume' }],
  // skip
  ['skip', { type: 'skip' }],
  ['Skip this week', { type: 'skip' }],
  ['skip this week please', { type: 'skip' }],
  // stop
  ['stop', { type: 'stop' }],
  ['STOP', { type: 'stop' }],
  ['unsubscribe', { type: 'stop' }],
  ['Stop the programme', { type: 'stop' }],
  ['please remove me', { type: 'stop' }],
  ['Please remove me from the list.', { type: 'stop' }],
  ['Stop. I have moved teams.', { type: 'stop' }],
  // help
  ['help', { type: 'help' }],
  ['Help!', { type: 'help' }],
  ['?', { type: 'help' }],
  [' ?? ', { type: 'help' }],
  ['I need help', { type: 'help' }],
  ['I need some help with the brief', { type: 'help' }],
  // rating
  ['4/5', { type: 'rating', rating: 4 }],
  ['rating: 4', { type: 'rating', rating: 4 }],
  ['Rating 2', { type: 'rating', rating: 2 }],
  ['4 out of 5', { type: 'rating', rating: 4 }],
  ['5/5 great course', { type: 'rating', rating: 5 }],
  ['3', { type: 'rating', rating: 3 }],
  ['1 / 5', { type: 'rating', rating: 1 }],
  // not a rating
  ['6/5', { type: 'reflection' }],
  ['0/5', { type: 'reflection' }],
  ['4/10', { type: 'reflection' }],
  ['rating: 7', { type: 'reflection' }],
  ['3 things I learned this week', { type: 'reflection' }],
  ['1. The headline matters most.', { type: 'reflection' }],
  // reflections that only look like commands
  ["I can't wait to try this", { type: 'reflection' }],
  ['I could not stop thinking about it', { type: 'reflection' }],
  ["don't stop", { type: 'reflection' }],
  ['Stop thinking of it as a press release.', { type: 'reflection' }],
  ['Back to you after the meeting.', { type: 'reflection' }],
  ['Backend teams write long posts.', { type: 'reflection' }],
  ['Helpful session, thank you.', { type: 'reflection' }],
  ['Skipping the jargon made it shorter.', { type: 'reflection' }],
  [
    'On Monday I rewrote the press release.\nFrom now on I will post weekly.',
    { type: 'reflection' },
  ],
  ['Not done yet, but close.', { type: 'reflection' }],
  ['Pausing to think helped.', { type: 'reflection' }],
  ['x', { type: 'reflection' }],
];

describe('parseIntent', () => {
  it.each(table)('%j', (text, intent) => {
    expect(read(text)).toEqual(intent);
  });

  it('reads the bodies of our one-tap reply buttons', () => {
    expect(read(actionReplies.done)).toEqual({ type: 'done' });
    expect(read(actionReplies.pause)).toEqual({ type: 'pause', weeks: 1 });
    expect(read(actionReplies.tooHard)).toEqual({ type: 'too_hard' });
    expect(read(actionReplies.stop)).toEqual({ type: 'stop' });
  });

  it('puts a date without a year on or after the day it was sent, where the learner is', () => {
    // 23:30 on 2 January in New York is already 3 January in UTC.
    const lateEvening = new Date('2028-01-03T04:30:00Z');
    expect(parseIntent('pause until 3 Jan', { sentAt: lateEvening })).toEqual({ type: 'pause' });
    expect(
      parseIntent('pause until 3 Jan', { sentAt: lateEvening, timeZone: 'America/New_York' }),
    ).toEqual({ type: 'pause', until: '2028-01-03' });
    expect(parseIntent('pause until 1 Mar', { sentAt: new Date('2027-03-02T09:00:00Z') })).toEqual({
      type: 'pause',
      until: '2028-03-01',
    });
    expect(parseIntent('pause until 29 Feb', { sentAt: new Date('2027-03-02T09:00:00Z') })).toEqual(
      { type: 'pause', until: '2028-02-29' },
    );
  });

  it('falls back to UTC for a time zone luxon does not know', () => {
    expect(parseIntent('pause until 3 Jan', { sentAt, timeZone: 'Mars/Olympus' })).toEqual({
      type: 'pause',
      until: '2028-01-03',
    });
  });
});

describe('parseIntent properties', () => {
  const options = fc.record({
    sentAt: fc.date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2090-01-01T00:00:00Z'),
      noInvalidDate: true,
    }),
    timeZone: fc.constantFrom(undefined, 'UTC', 'Europe/London', 'Pacific/Kiritimati', 'bogus'),
  });

  const replies = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    fc
      .tuple(
        fc.constantFrom('pause until ', 'pause till ', 'pause for ', 'rating: ', '', 'pause '),
        fc.oneof(
          fc.integer({ min: -5, max: 40 }).map(String),
          fc
            .tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 14 }))
            .map(([day, month]) => `${day}/${month}`),
          fc.constantFrom('3 Jan', '29 Feb', 'Monday', '2028-01-03', '31/2', '2 weeks', '4/5'),
          fc.string({ maxLength: 20 }),
        ),
      )
      .map(([command, rest]) => command + rest),
  );

  it('never throws, and gives ratings of 1..5 and pause dates after the sending day', () => {
    fc.assert(
      fc.property(replies, options, (text, { sentAt: sent, timeZone }) => {
        const intent = parseIntent(text, { sentAt: sent, timeZone });
        if (intent.type === 'rating') {
          expect(Number.isInteger(intent.rating)).toBe(true);
          expect(intent.rating).toBeGreaterThanOrEqual(1);
          expect(intent.rating).toBeLessThanOrEqual(5);
        }
        if (intent.type === 'pause' && intent.until !== undefined) {
          expect(intent.until).toMatch(/^\d{4}-\d{2}-\d{2}$/);
          const until = new Date(`${intent.until}T00:00:00Z`);
          expect(until.toISOString().slice(0, 10)).toBe(intent.until);
          // After the sending day wherever the learner is: later than the instant minus a day.
          expect(until.getTime()).toBeGreaterThan(sent.getTime() - 86_400_000);
          expect(until.getTime()).toBeLessThan(sent.getTime() + 367 * 86_400_000);
        }
        if (intent.type === 'pause' && intent.weeks !== undefined) {
          expect(intent.weeks).toBeGreaterThanOrEqual(1);
          expect(intent.weeks).toBeLessThanOrEqual(52);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on long or odd input', () => {
    for (const text of [
      ' '.repeat(1024 * 1024),
      'pause until '.repeat(10_000),
      `pause until ${'1'.repeat(100_000)}`,
      `done${'!'.repeat(100_000)}`,
      '\n'.repeat(100_000) + 'done',
      '.'.repeat(100_000),
    ]) {
      expect(typeof parseIntent(text, { sentAt }).type).toBe('string');
    }
  });
});
