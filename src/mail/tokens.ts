import { createHmac, timingSafeEqual } from 'node:crypto';
import { GymError } from '../errors.js';

/**
 * Signed references carried by our email addresses and links: a reply token names the delivery a
 * reply answers (in `Reply-To: progress+<token>@domain`), an unsubscribe token names the learner
 * (in `List-Unsubscribe`). Pure: node:crypto only.
 *
 * A token is `<version><id><mac>`:
 * - version: one character, `1` today, so the format can change without misreading old mail;
 * - id: the integer in base 36, lower case, no leading zeros (so each id has exactly one token);
 * - mac: HMAC-SHA256(GYM_SECRET, `digital-gym:<purpose>:v1:<id>`) cut to 80 bits, in lower-case
 *   RFC 4648 base32 (16 characters). The purpose is signed, so a token made for one purpose never
 *   verifies as the other.
 *
 * Only lower-case letters and digits: safe in an email local part (which some mail systems
 * lower-case) and in a URL path. A delivery id of a million makes a 21-character token.
 */

/** What a token can stand for; part of what is signed. */
type Purpose =
  'reply' | 'unsubscribe' | 'manager-unsubscribe' | 'digest-reply' | 'confirm-yes' | 'confirm-no';

const version = '1';
const macBytes = 10; // 80 bits: forging one token takes ~2^80 tries, and each try is an email
const macChars = 16; // base32 of 10 bytes, no padding
const maxIdChars = Number.MAX_SAFE_INTEGER.toString(36).length;
const base32 = 'abcdefghijklmnopqrstuvwxyz234567';
const canonicalId = /^(?:0|[1-9a-z][0-9a-z]*)$/;

/** Why a token was refused: the caller logs it; none of them is worth more than a log line. */
export type TokenProblem = 'malformed' | 'unknown-version' | 'bad-signature';

export type ReplyTokenResult =
  | { readonly ok: true; readonly deliveryId: number }
  | { readonly ok: false; readonly reason: TokenProblem };

export type UnsubscribeTokenResult =
  | { readonly ok: true; readonly learnerId: number }
  | { readonly ok: false; readonly reason: TokenProblem };

/**
 * The reply token of a delivery, for `progress+<token>@domain`.
 *
 * @example signReplyToken(secret, { deliveryId: 42 }) // '116...' (the same every time)
 */
export function signReplyToken(secret: string, ref: { readonly deliveryId: number }): string {
  return sign(secret, 'reply', ref.deliveryId);
}

/** The delivery a reply token names, or why it does not name one. Never throws. */
export function verifyReplyToken(secret: string, token: string): ReplyTokenResult {
  const result = verify(secret, 'reply', token);
  return result.ok ? { ok: true, deliveryId: result.id } : result;
}

/** The unsubscribe token of a learner, for the mailto and one-click HTTPS unsubscribe links. */
export function signUnsubscribeToken(secret: string, ref: { readonly learnerId: number }): string {
  return sign(secret, 'unsubscribe', ref.learnerId);
}

/** The learner an unsubscribe token names, or why it does not name one. Never throws. */
export function verifyUnsubscribeToken(secret: string, token: string): UnsubscribeTokenResult {
  const result = verify(secret, 'unsubscribe', token);
  return result.ok ? { ok: true, learnerId: result.id } : result;
}

/**
 * The unsubscribe token of a manager, for the digest's mailto and one-click links: it stops that
 * manager's digests only (their people's programmes go on).
 */
export function signManagerUnsubscribeToken(
  secret: string,
  ref: { readonly managerId: number },
): string {
  return sign(secret, 'manager-unsubscribe', ref.managerId);
}

/** The manager a manager-unsubscribe token names, or undefined. Never throws. */
export function verifyManagerUnsubscribeToken(secret: string, token: string): number | undefined {
  const result = verify(secret, 'manager-unsubscribe', token);
  return result.ok ? result.id : undefined;
}

/** The reply token of a manager digest, for its Reply-To (`progress+g<token>@domain`). */
export function signDigestReplyToken(secret: string, ref: { readonly digestId: number }): string {
  return sign(secret, 'digest-reply', ref.digestId);
}

/** The digest a digest reply token names, or undefined. Never throws. */
export function verifyDigestReplyToken(secret: string, token: string): number | undefined {
  const result = verify(secret, 'digest-reply', token);
  return result.ok ? result.id : undefined;
}

/**
 * The answer to a question we asked about a probable command ("Did you mean: pause for 2
 * weeks?"): the token names the learner's message that was asked about, and which button was
 * pressed is part of what is signed, so a "no" can never be turned into a "yes".
 */
export function signConfirmToken(
  secret: string,
  ref: { readonly inboundId: number; readonly answer: 'yes' | 'no' },
): string {
  return sign(secret, `confirm-${ref.answer}`, ref.inboundId);
}

/** The message asked about, from a `confirm-yes` or `confirm-no` token, or undefined. Never throws. */
export function verifyConfirmToken(
  secret: string,
  token: string,
  answer: 'yes' | 'no',
): number | undefined {
  const result = verify(secret, `confirm-${answer}`, token);
  return result.ok ? result.id : undefined;
}

/**
 * The plus-address tags that are not a learner's reply token: `u` a learner's unsubscribe, `m` a
 * manager's unsubscribe, `g` a digest's Reply-To, `y` and `n` the answers to a question we asked.
 * Reply tokens start with their version digit.
 */
export type AddressTag = 'u' | 'm' | 'g' | 'y' | 'n';

/** `progress+<tag><token>@domain`. */
export function taggedAddressFor(replyAddress: string, tag: AddressTag, token: string): string {
  return replyAddressFor(replyAddress, `${tag}${token}`);
}

/** The token after `tag` in `progress+<tag><token>@domain`, like `tokenFromAddress`. */
export function taggedTokenFromAddress(
  address: string,
  replyAddress: string,
  tag: AddressTag,
): string | undefined {
  const found = plusTag(address, replyAddress);
  return found !== undefined && found.startsWith(tag) && found.length > 1
    ? found.slice(1)
    : undefined;
}

/**
 * The plus-address a reply token goes in.
 *
 * @example replyAddressFor('progress@example.org', '1a...') // 'progress+1a...@example.org'
 */
export function replyAddressFor(replyAddress: string, token: string): string {
  const { local, domain } = splitReplyAddress(replyAddress);
  return `${local}+${token}@${domain}`;
}

/**
 * The plus-address an unsubscribe request goes to: `u` marks it, so it is never read as a reply
 * (reply tokens start with their version digit).
 *
 * @example unsubscribeAddressFor('progress@example.org', '1b...') // 'progress+u1b...@example.org'
 */
export function unsubscribeAddressFor(replyAddress: string, token: string): string {
  return replyAddressFor(replyAddress, `u${token}`);
}

/**
 * The reply token in an address we handed out, or undefined when the address is not a
 * plus-address of `replyAddress` (or carries an unsubscribe token). Mailbox and domain match
 * case-insensitively and the token comes back in lower case, since some mail systems change the
 * case of addresses. Accepts `Name <addr>` too. It does not verify the token.
 *
 * @example tokenFromAddress('Progress+1AB...@Example.org', 'progress@example.org') // '1ab...'
 */
export function tokenFromAddress(address: string, replyAddress: string): string | undefined {
  const tag = plusTag(address, replyAddress);
  return tag === undefined || /^[umgyn]/.test(tag) ? undefined : tag;
}

/** The unsubscribe token in `progress+u<token>@domain`, like `tokenFromAddress`. */
export function unsubscribeTokenFromAddress(
  address: string,
  replyAddress: string,
): string | undefined {
  const tag = plusTag(address, replyAddress);
  return tag !== undefined && tag.startsWith('u') && tag.length > 1 ? tag.slice(1) : undefined;
}

/**
 * `local` and `domain` of the bare reply address (`GYM_REPLY_ADDRESS`, validated at start).
 * Throws on anything else: the configuration check should have stopped it, so it is a bug.
 */
export function splitReplyAddress(replyAddress: string): { local: string; domain: string } {
  const at = replyAddress.lastIndexOf('@');
  const local = replyAddress.slice(0, at);
  const domain = replyAddress.slice(at + 1);
  if (at <= 0 || domain === '' || local.includes('+') || /[\s<>]/.test(replyAddress)) {
    throw new GymError(
      'MAIL_INVALID',
      `reply address ${JSON.stringify(replyAddress)} is not a bare address without "+", such as progress@example.org`,
      { replyAddress },
    );
  }
  return { local, domain };
}

/** HMAC of `data` under the secret, cut to `bytes`, in lower-case base32. Also used for Message-IDs. */
export function macOf(secret: string, data: string, bytes: number = macBytes): string {
  return toBase32(createHmac('sha256', secret).update(data).digest().subarray(0, bytes));
}

function sign(secret: string, purpose: Purpose, id: number): string {
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new GymError('MAIL_INVALID', `cannot sign a ${purpose} token for id ${String(id)}`, {
      purpose,
      id,
    });
  }
  return `${version}${id.toString(36)}${macOf(secret, signed(purpose, id))}`;
}

function verify(
  secret: string,
  purpose: Purpose,
  token: unknown,
): { ok: true; id: number } | { ok: false; reason: TokenProblem } {
  if (typeof token !== 'string' || token.length < 2 + macChars) {
    return { ok: false, reason: 'malformed' };
  }
  if (token[0] !== version) return { ok: false, reason: 'unknown-version' };
  const idPart = token.slice(1, -macChars);
  const mac = token.slice(-macChars);
  if (idPart.length > maxIdChars || !canonicalId.test(idPart) || !/^[a-z2-7]+$/.test(mac)) {
    return { ok: false, reason: 'malformed' };
  }
  const id = parseInt(idPart, 36);
  if (!Number.isSafeInteger(id)) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(macOf(secret, signed(purpose, id)));
  const given = Buffer.from(mac);
  // Same length by construction (both 16 ASCII characters), which timingSafeEqual requires.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad-signature' };
  }
  return { ok: true, id };
}

const signed = (purpose: Purpose, id: number) => `digital-gym:${purpose}:v${version}:${id}`;

function plusTag(address: string, replyAddress: string): string | undefined {
  if (typeof address !== 'string') return undefined;
  const bracketed = /<([^<>]*)>\s*$/.exec(address);
  const bare = (bracketed?.[1] ?? address).trim().toLowerCase();
  const at = bare.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = bare.slice(0, at);
  const plus = local.indexOf('+');
  if (plus < 0) return undefined;
  const ours = splitReplyAddress(replyAddress);
  if (local.slice(0, plus) !== ours.local.toLowerCase()) return undefined;
  if (bare.slice(at + 1) !== ours.domain.toLowerCase()) return undefined;
  const tag = local.slice(plus + 1);
  return tag === '' ? undefined : tag;
}

function toBase32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += base32.charAt((buffer >>> (bits - 5)) & 31);
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += base32.charAt((buffer << (5 - bits)) & 31);
  return out;
}
