import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildInvite, type InviteRequest } from '../../src/calendar/invite.js';
import { writeInvite } from '../../src/calendar/invite-template.js';

/*
 * `writeInvite` replaces ical-generator on the send path (#17); it must write the very bytes
 * ical-generator writes, whatever the names, titles and descriptions hold.
 */

const base: InviteRequest = {
  uid: 'gym-12-w03-practice-abcdefghijklm@gym.example.gov.uk',
  sequence: 0,
  start: new Date('2027-01-20T14:00:00Z'),
  durationMinutes: 45,
  title: 'Practice: write a post',
  description: 'Open the draft.\n\nWrite three lines, then post it.',
  location: 'Microsoft Teams',
  organizer: { name: 'Digital Gym', email: 'progress@gym.example.gov.uk' },
  attendee: { name: 'Zoë O’Brien, Jr', email: 'zoe.obrien@example.gov.uk' },
  stamp: new Date('2027-01-04T09:00:00.123Z'),
  method: 'REQUEST',
};

describe('writeInvite', () => {
  it.each([
    ['a request', base],
    ['a cancellation', { ...base, method: 'CANCEL' as const, sequence: 3 }],
    ['no location, no description', { ...base, location: undefined, description: '' }],
    [
      'escapes and long lines',
      {
        ...base,
        title:
          'Semi; colon, comma \\ backslash "quote" — and a long title that needs folding at 74 octets 🏋️ twice 🏋️',
        attendee: { name: 'A "quoted" \\ name; with, all 🏋️ of it and ŵ ŷ', email: 'a@b.c' },
        description: 'Line\r\nbreaks\rof\nevery kind; and ✓ marks '.repeat(8),
      },
    ],
  ])('writes %s as ical-generator does', (_what, request) => {
    expect(writeInvite(request)).toBe(buildInvite(request));
  });

  it('writes any text as ical-generator does', () => {
    const text = fc.string({ unit: 'binary', maxLength: 200 });
    fc.assert(
      fc.property(
        text,
        text,
        fc.option(text, { nil: undefined }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        fc.constantFrom('REQUEST' as const, 'CANCEL' as const),
        (title, description, location, name, sequence, start, method) => {
          const request = {
            ...base,
            title,
            description,
            location,
            attendee: { ...base.attendee, name },
            sequence,
            start,
            method,
          };
          expect(writeInvite(request)).toBe(buildInvite(request));
        },
      ),
      { numRuns: 500 },
    );
  });
});
