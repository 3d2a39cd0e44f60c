import { describe, expect, it } from 'vitest';
import { messageKey, storableRead, storableText } from '../../src/replies/storable.js';
import type { ReadMessage } from '../../src/replies/types.js';

const base: ReadMessage = {
  messageId: '<ok@mail.example.test>',
  date: new Date('2027-01-04T11:00:00Z'),
  from: 'ana.lopez@example.gov.uk',
  fromName: 'Ana',
  subject: 'Re: Week 1',
  recipients: ['progress@gym.example.gov.uk'],
  threadIds: [],
  kind: 'reply',
  evidence: 'no automatic-mail headers or subject',
  text: 'done',
  intent: { type: 'done' },
  confidence: 'clear',
  language: 'en',
  bounce: undefined,
  rsvp: undefined,
};

describe('what the database is given of a read message', () => {
  it.each([
    ['a lone high surrogate', 'a\ud800b', 'a\ufffdb'],
    ['a lone low surrogate', '\udc00x', '\ufffdx'],
    ['a pair, kept', 'smile \ud83d\ude00', 'smile \ud83d\ude00'],
    ['NUL, dropped', 'do\u0000ne', 'done'],
    ['two high surrogates then a low', '\ud800\ud83d\ude00', '\ufffd\ud83d\ude00'],
  ])('storableText: %s', (_, input, output) => {
    expect(storableText(input)).toBe(output);
  });

  it('messageKey keeps a clean id and hashes a long or broken one, the same way every time', () => {
    expect(messageKey('<ok@mail.example.test>')).toBe('<ok@mail.example.test>');
    const long = `<${'x'.repeat(3000)}@mail.example.test>`;
    expect(messageKey(long)).toMatch(/^<sha256-[0-9a-f]{40}@long-id\.invalid>$/);
    expect(messageKey(long)).toBe(messageKey(long));
    expect(messageKey(`<a\ud800@b>`)).toMatch(/@long-id\.invalid>$/);
  });

  it('a clean message needs no repair', () => {
    expect(storableRead(base)).toEqual({
      read: base,
      key: '<ok@mail.example.test>',
      writtenMessageId: '<ok@mail.example.test>',
      repairs: [],
    });
  });

  it.each([
    [{ date: new Date('-100000-01-01T00:00:00Z') }, /year -100000 is outside 1970-9999/],
    [{ date: new Date('+100000-01-01T00:00:00Z') }, /year 100000 is outside/],
    [{ subject: '\ud800' }, /lone UTF-16 surrogates were replaced/],
    [{ messageId: `<${'y'.repeat(600)}@x>` }, /is stored under its hash/],
  ])('repairs %o and says why', (change, why) => {
    const result = storableRead({ ...base, ...change });
    expect(result.repairs.join('; ')).toMatch(why);
    expect(JSON.stringify(result.read)).not.toMatch(/\\ud[89ab]/);
    if ('date' in change) expect(result.read.date).toBeUndefined();
  });
});
