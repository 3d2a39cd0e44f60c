import { describe, expect, it } from 'vitest';
import {
  describeSuppression,
  normaliseAddress,
  suppressionFor,
  type MailPurpose,
  type Suppression,
  type SuppressionHow,
  type SuppressionScope,
} from '../../src/consent/suppression.js';

const row = (scope: SuppressionScope, how: SuppressionHow, day = '2027-02-03'): Suppression => ({
  address: 'sam@example.gov.uk',
  scope,
  how,
  createdAt: new Date(`${day}T10:00:00Z`),
});

const step: MailPurpose = { kind: 'programme', programmeId: 'social-media-for-comms' };
const other: MailPurpose = { kind: 'programme', programmeId: 'digital-foundations' };
const ack: MailPurpose = { kind: 'acknowledgement' };
const withdrawal: MailPurpose = { kind: 'withdrawal' };
const digest: MailPurpose = { kind: 'digest' };

describe('suppressionFor: the one rule of consent', () => {
  // [the person's no, what is about to happen, is it forbidden]
  const table: [Suppression, MailPurpose, boolean][] = [
    [row('all', 'one_click'), step, true],
    [row('all', 'one_click'), other, true],
    [row('all', 'one_click'), ack, true],
    [row('all', 'one_click'), digest, true],
    // An unsubscribe still frees the calendar slots it leaves behind...
    [row('all', 'one_click'), withdrawal, false],
    // ...but nothing at all goes to a dead address or to someone who called us spam.
    [row('all', 'hard_bounce'), withdrawal, true],
    [row('all', 'complaint'), withdrawal, true],
    // "Stop" ends one programme: not another, and the stop's own acknowledgement goes.
    [row('programme:social-media-for-comms', 'reply'), step, true],
    [row('programme:social-media-for-comms', 'reply'), other, false],
    [row('programme:social-media-for-comms', 'reply'), ack, false],
    [row('programme:social-media-for-comms', 'reply'), digest, false],
    // A manager's digests only.
    [row('digests', 'mailto'), digest, true],
    [row('digests', 'mailto'), step, false],
    [row('digests', 'mailto'), ack, false],
  ];
  it.each(table)('%o forbids %o: %s', (suppression, purpose, forbidden) => {
    expect(suppressionFor([suppression], purpose)).toEqual(forbidden ? suppression : undefined);
  });

  it('answers with the oldest no that covers it, and nothing without one', () => {
    const later = row('all', 'reply', '2027-03-01');
    const earlier = row('programme:social-media-for-comms', 'reply', '2027-01-10');
    expect(suppressionFor([later, earlier], step)).toBe(earlier);
    expect(suppressionFor([later, earlier], other)).toBe(later);
    expect(suppressionFor([], step)).toBeUndefined();
  });
});

describe('normaliseAddress', () => {
  it.each([
    [' Sam@Example.GOV.uk ', 'sam@example.gov.uk'],
    ['Sam <SAM@Bücher.example>', 'sam@xn--bcher-kva.example'],
    ['sam@xn--bcher-kva.example', 'sam@xn--bcher-kva.example'],
  ])('%s is %s', (given, expected) => {
    expect(normaliseAddress(given)).toBe(expected);
  });
});

describe('describeSuppression', () => {
  it.each([
    [row('all', 'one_click'), 'unsubscribed on 2027-02-03 (one-click)'],
    [row('all', 'link_confirm'), 'unsubscribed on 2027-02-03 (unsubscribe page)'],
    [row('all', 'hard_bounce'), 'address bounced on 2027-02-03 (hard bounce)'],
    [
      row('programme:social-media-for-comms', 'reply'),
      'stopped social-media-for-comms on 2027-02-03 (reply)',
    ],
    [row('digests', 'by_hand'), 'stopped the manager digests on 2027-02-03 (by hand)'],
  ])('%o reads "%s"', (suppression, words) => {
    expect(describeSuppression(suppression)).toBe(words);
  });
});
