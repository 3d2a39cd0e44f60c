import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mailtoLink, progressLine } from '../../src/render/index.js';

describe('mailto links', () => {
  it('encode subject and body per RFC 6068 and keep the address readable', () => {
    expect(
      mailtoLink('progress+a.b_c@gym.example.gov.uk', 'Done: week 3 & more?', 'pause for 1 week'),
    ).toBe(
      'mailto:progress+a.b_c@gym.example.gov.uk?subject=Done%3A%20week%203%20%26%20more%3F&body=pause%20for%201%20week',
    );
  });

  it('round-trip any subject and body (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (subject, body) => {
        const url = new URL(mailtoLink('progress+t@gym.example.gov.uk', subject, body));
        // URLSearchParams reads "+" as a space; we never write one, so this is exact.
        expect(url.searchParams.get('subject')).toBe(subject);
        expect(url.searchParams.get('body')).toBe(body);
        expect(url.href).not.toMatch(/[\s"<>]/);
      }),
    );
  });

  it('refuse an address that could break out of the link', () => {
    expect(() => mailtoLink('a"b@x.gov.uk', 's', 'b')).toThrow(
      'reply address "a\\"b@x.gov.uk" is not a plain email address',
    );
    expect(() => mailtoLink('a@x.gov.uk\r\nBcc: y@z', 's', 'b')).toThrow(
      /not a plain email address/,
    );
  });
});

describe('the progress header', () => {
  it.each([
    [{ week: 1, totalWeeks: 12, assignmentsDone: 0 }, 'Week 1 of 12'],
    [{ week: 3, totalWeeks: 12, assignmentsDone: 1 }, 'Week 3 of 12 · 1 assignment done'],
    [{ week: 3, totalWeeks: 12, assignmentsDone: 2 }, 'Week 3 of 12 · 2 assignments done'],
  ])('%o reads "%s"', (progress, line) => {
    expect(progressLine(progress)).toBe(line);
  });
});
