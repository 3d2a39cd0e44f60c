import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GymError } from '../../src/errors.js';
import {
  replyAddressFor,
  signReplyToken,
  signUnsubscribeToken,
  tokenFromAddress,
  unsubscribeAddressFor,
  unsubscribeTokenFromAddress,
  verifyReplyToken,
  verifyUnsubscribeToken,
} from '../../src/mail/tokens.js';

const secret = 'test-secret-0123456789abcdef0123456789abcdef';
const otherSecret = 'another-secret-0123456789abcdef0123456789ab';
const ids = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const tokenChars = '0123456789abcdefghijklmnopqrstuvwxyz';

describe('reply and unsubscribe tokens', () => {
  it('are pinned: mail already sent must keep verifying after an upgrade', () => {
    // Computed independently (Python's hmac and base64.b32encode), not copied from the code.
    expect(signReplyToken(secret, { deliveryId: 1 })).toBe('11lmwyvjp5wr2jsdtt');
    expect(signReplyToken(secret, { deliveryId: 1_000_000 })).toBe('1lfls6uwphfdtnzizshu6');
    expect(signUnsubscribeToken(secret, { learnerId: 1 })).toBe('11nernvg5ep73nuwxj');
  });

  it('are short lower-case letters and digits, safe in a local part and a URL', () => {
    fc.assert(
      fc.property(ids, (id) => {
        for (const token of [
          signReplyToken(secret, { deliveryId: id }),
          signUnsubscribeToken(secret, { learnerId: id }),
        ]) {
          expect(token).toMatch(/^1[0-9a-z]{1,11}[a-z2-7]{16}$/);
          expect(token.length).toBeLessThanOrEqual(28);
        }
      }),
    );
    expect(signReplyToken(secret, { deliveryId: 1_000_000 })).toHaveLength(21);
  });

  it('round-trip', () => {
    fc.assert(
      fc.property(ids, (id) => {
        expect(verifyReplyToken(secret, signReplyToken(secret, { deliveryId: id }))).toEqual({
          ok: true,
          deliveryId: id,
        });
        expect(
          verifyUnsubscribeToken(secret, signUnsubscribeToken(secret, { learnerId: id })),
        ).toEqual({ ok: true, learnerId: id });
      }),
    );
  });

  it('refuse any single-character change', () => {
    fc.assert(
      fc.property(
        ids,
        fc.nat(),
        fc.constantFrom(...tokenChars),
        fc.boolean(),
        (id, at, replacement, unsubscribe) => {
          const token = unsubscribe
            ? signUnsubscribeToken(secret, { learnerId: id })
            : signReplyToken(secret, { deliveryId: id });
          const i = at % token.length;
          fc.pre(token[i] !== replacement);
          const changed = token.slice(0, i) + replacement + token.slice(i + 1);
          const result = unsubscribe
            ? verifyUnsubscribeToken(secret, changed)
            : verifyReplyToken(secret, changed);
          expect(result.ok).toBe(false);
        },
      ),
    );
  });

  it('refuse a character added or removed, and upper case', () => {
    fc.assert(
      fc.property(ids, fc.nat(), fc.constantFrom(...tokenChars), (id, at, extra) => {
        const token = signReplyToken(secret, { deliveryId: id });
        const i = at % token.length;
        expect(verifyReplyToken(secret, token.slice(0, i) + token.slice(i + 1)).ok).toBe(false);
        expect(verifyReplyToken(secret, token.slice(0, i) + extra + token.slice(i)).ok).toBe(false);
        expect(verifyReplyToken(secret, token.toUpperCase()).ok).toBe(false);
      }),
    );
  });

  it('never stand in for each other, nor verify under another secret', () => {
    fc.assert(
      fc.property(ids, (id) => {
        const reply = signReplyToken(secret, { deliveryId: id });
        const unsubscribe = signUnsubscribeToken(secret, { learnerId: id });
        expect(verifyUnsubscribeToken(secret, reply)).toEqual({
          ok: false,
          reason: 'bad-signature',
        });
        expect(verifyReplyToken(secret, unsubscribe)).toEqual({
          ok: false,
          reason: 'bad-signature',
        });
        expect(verifyReplyToken(otherSecret, reply)).toEqual({
          ok: false,
          reason: 'bad-signature',
        });
      }),
    );
  });

  it.each([
    ['', 'malformed'],
    ['1', 'malformed'],
    ['2' + signReplyToken(secret, { deliveryId: 5 }).slice(1), 'unknown-version'],
    // The same id with a leading zero: one id, one token.
    ['10' + signReplyToken(secret, { deliveryId: 5 }).slice(1), 'malformed'],
    ['1' + 'z'.repeat(12) + 'a'.repeat(16), 'malformed'],
    ['15' + '0'.repeat(16), 'malformed'],
    ['u' + signReplyToken(secret, { deliveryId: 5 }), 'unknown-version'],
  ])('refuse %j as %s', (token, reason) => {
    expect(verifyReplyToken(secret, token)).toEqual({ ok: false, reason });
  });

  it('never throw on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), (input) => {
        expect(verifyReplyToken(secret, input as string).ok).toBe(false);
        expect(verifyUnsubscribeToken(secret, input as string).ok).toBe(false);
      }),
    );
  });

  it('refuse to sign what is not an id: that is a bug of ours', () => {
    for (const id of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
      expect(() => signReplyToken(secret, { deliveryId: id })).toThrow(GymError);
    }
  });
});

describe('token addresses', () => {
  const replyAddress = 'progress@example.org';

  it('put the token after a plus and read it back, ignoring case', () => {
    const token = signReplyToken(secret, { deliveryId: 42 });
    const address = replyAddressFor(replyAddress, token);
    expect(address).toBe(`progress+${token}@example.org`);
    expect(tokenFromAddress(address, replyAddress)).toBe(token);
    expect(tokenFromAddress(address.toUpperCase(), replyAddress)).toBe(token);
    expect(tokenFromAddress(`"Digital Gym" <${address}>`, replyAddress)).toBe(token);
    expect(tokenFromAddress(` ${address} `, 'Progress@EXAMPLE.org')).toBe(token);
  });

  it('keep unsubscribe tokens apart from reply tokens', () => {
    const token = signUnsubscribeToken(secret, { learnerId: 7 });
    const address = unsubscribeAddressFor(replyAddress, token);
    expect(address).toBe(`progress+u${token}@example.org`);
    expect(unsubscribeTokenFromAddress(address, replyAddress)).toBe(token);
    expect(tokenFromAddress(address, replyAddress)).toBeUndefined();
    const reply = replyAddressFor(replyAddress, signReplyToken(secret, { deliveryId: 7 }));
    expect(unsubscribeTokenFromAddress(reply, replyAddress)).toBeUndefined();
  });

  it.each([
    'progress@example.org',
    'progress+@example.org',
    'someone+1abc@example.org',
    'progress+1abc@example.com',
    'progress+1abc@mail.example.org',
    'not an address',
    '',
  ])('find no token in %j', (address) => {
    expect(tokenFromAddress(address, replyAddress)).toBeUndefined();
    expect(unsubscribeTokenFromAddress(address, replyAddress)).toBeUndefined();
  });

  it('never throw on an arbitrary address', () => {
    fc.assert(
      fc.property(fc.string(), (address) => {
        tokenFromAddress(address, replyAddress);
        unsubscribeTokenFromAddress(address, replyAddress);
      }),
    );
  });
});
