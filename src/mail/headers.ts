import { timingSafeEqual } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { GymError } from '../errors.js';
import {
  macOf,
  replyAddressFor,
  signDigestReplyToken,
  signManagerUnsubscribeToken,
  signReplyToken,
  signUnsubscribeToken,
  taggedAddressFor,
  unsubscribeAddressFor,
} from './tokens.js';

/**
 * The headers that make a learner email ours (pure): a Message-ID that names the delivery, a
 * Reply-To that carries its signed reply token, List-Unsubscribe (RFC 2369, one-click per RFC
 * 8058) and the RFC 3834 marks of automatic mail. Values are built only from ids, tokens and the
 * validated configuration, never from names or subjects, so nothing a learner typed reaches them.
 */

export interface LearnerEmailHeadersInput {
  /** `GYM_SECRET`. */
  readonly secret: string;
  /** `GYM_FROM` (`Digital Gym <gym@example.org>` or a bare address): its domain names our ids. */
  readonly from: string;
  /** `GYM_REPLY_ADDRESS`, the bare mailbox we read (`progress@example.org`). */
  readonly replyAddress: string;
  /** `GYM_PUBLIC_URL`, without a trailing slash; when set, List-Unsubscribe gets its web link. */
  readonly publicUrl: string | undefined;
  readonly deliveryId: number;
  readonly learnerId: number;
  /**
   * Raised when the same delivery is sent again as a new message on purpose (an updated invite);
   * a retry of the same attempt keeps it. 0, the default, leaves it out of the Message-ID.
   */
  readonly revision?: number;
}

export interface LearnerEmailHeaders {
  /** `<d42.k7x...@example.org>`: the same for every attempt of the delivery. */
  readonly messageId: string;
  /** `progress+<reply token>@example.org`. */
  readonly replyTo: string;
  /** List-Unsubscribe (and -Post), Auto-Submitted, X-Auto-Response-Suppress. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Everything `composeMessage` needs besides the content:
 * `composeMessage({ ...content, ...learnerEmailHeaders(input) })`.
 *
 * The one-click header (`List-Unsubscribe-Post: List-Unsubscribe=One-Click`) is only added for an
 * `https:` public URL: RFC 8058 requires HTTPS, and receivers ignore it otherwise. A plain
 * `http:` URL (a local test setup) still gets its link in List-Unsubscribe.
 *
 * @example
 * learnerEmailHeaders({ secret, from: 'Gym <gym@example.org>', replyAddress: 'progress@example.org',
 *   publicUrl: 'https://gym.example.org', deliveryId: 42, learnerId: 7 })
 * // { messageId: '<d42.…@example.org>', replyTo: 'progress+116…@example.org',
 * //   headers: { 'List-Unsubscribe': '<mailto:progress+u17…@example.org?subject=unsubscribe>,
 * //     <https://gym.example.org/unsubscribe/17…>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', … } }
 */
export function learnerEmailHeaders(input: LearnerEmailHeadersInput): LearnerEmailHeaders {
  const replyToken = signReplyToken(input.secret, { deliveryId: input.deliveryId });
  const unsubscribeToken = signUnsubscribeToken(input.secret, { learnerId: input.learnerId });
  const unsubscribe = [
    `<mailto:${unsubscribeAddressFor(input.replyAddress, unsubscribeToken)}?subject=unsubscribe>`,
  ];
  const headers: Record<string, string> = {};
  if (input.publicUrl !== undefined) {
    const url = unsubscribeUrlFor(input.publicUrl, unsubscribeToken);
    unsubscribe.push(`<${url}>`);
    if (url.startsWith('https:')) headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  return {
    messageId: messageIdFor(input.secret, {
      deliveryId: input.deliveryId,
      domain: domainOf(input.from),
      revision: input.revision ?? 0,
    }),
    replyTo: replyAddressFor(input.replyAddress, replyToken),
    headers: {
      'List-Unsubscribe': unsubscribe.join(', '),
      ...headers,
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'OOF, AutoReply',
    },
  };
}

/**
 * The headers of a manager digest, like a learner email's: a Message-ID that names the digest, a
 * Reply-To with the digest's signed token (`progress+g<token>@…`), and List-Unsubscribe (mailto
 * `progress+m<token>@…`, and one-click `/unsubscribe/m<token>`) that stop this manager's digests
 * and nothing else.
 */
export function managerDigestHeaders(input: {
  readonly secret: string;
  readonly from: string;
  readonly replyAddress: string;
  readonly publicUrl: string | undefined;
  readonly digestId: number;
  readonly managerId: number;
}): LearnerEmailHeaders & { readonly unsubscribeUrl: string | undefined } {
  const token = signManagerUnsubscribeToken(input.secret, { managerId: input.managerId });
  const unsubscribe = [
    `<mailto:${taggedAddressFor(input.replyAddress, 'm', token)}?subject=unsubscribe>`,
  ];
  const headers: Record<string, string> = {};
  let unsubscribeUrl: string | undefined;
  if (input.publicUrl !== undefined) {
    unsubscribeUrl = unsubscribeUrlFor(input.publicUrl, `m${token}`);
    unsubscribe.push(`<${unsubscribeUrl}>`);
    if (unsubscribeUrl.startsWith('https:'))
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  return {
    messageId: digestMessageIdFor(input.secret, {
      digestId: input.digestId,
      domain: domainOf(input.from),
    }),
    replyTo: taggedAddressFor(
      input.replyAddress,
      'g',
      signDigestReplyToken(input.secret, { digestId: input.digestId }),
    ),
    unsubscribeUrl,
    headers: {
      'List-Unsubscribe': unsubscribe.join(', '),
      ...headers,
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'OOF, AutoReply',
    },
  };
}

/**
 * The headers of a manager's introduction (#14): a Message-ID of its own (`<i<id>.<mac>@…>`),
 * replies to the plain reply mailbox, and the same List-Unsubscribe as the digests, which stops
 * this manager's digests and nothing else. `unsubscribeAddress` is that mailto's address, for
 * the footer's link.
 */
export function managerIntroductionHeaders(input: {
  readonly secret: string;
  readonly from: string;
  readonly replyAddress: string;
  readonly publicUrl: string | undefined;
  readonly introductionId: number;
  readonly managerId: number;
}): LearnerEmailHeaders & {
  readonly unsubscribeUrl: string | undefined;
  readonly unsubscribeAddress: string;
} {
  const digest = managerDigestHeaders({ ...input, digestId: 0 });
  const token = signManagerUnsubscribeToken(input.secret, { managerId: input.managerId });
  const mac = macOf(
    input.secret,
    `digital-gym:introduction:v1:${input.introductionId}`,
    messageIdMacBytes,
  );
  return {
    messageId: `<i${input.introductionId}.${mac}@${domainOf(input.from)}>`,
    replyTo: input.replyAddress,
    unsubscribeUrl: digest.unsubscribeUrl,
    unsubscribeAddress: taggedAddressFor(input.replyAddress, 'm', token),
    headers: digest.headers,
  };
}

/** The introduction a Message-ID we made names, or undefined. Never throws. */
export function introductionFromMessageId(secret: string, messageId: string): number | undefined {
  if (typeof messageId !== 'string' || messageId.length > 300) return undefined;
  const match = /^<?i(\d{1,16})\.([a-z2-7]{13})@[^<>\s]+>?$/.exec(messageId.trim().toLowerCase());
  if (match === null) return undefined;
  const id = Number(match[1]);
  if (!Number.isSafeInteger(id)) return undefined;
  const expected = Buffer.from(
    macOf(secret, `digital-gym:introduction:v1:${id}`, messageIdMacBytes),
  );
  const given = Buffer.from(match[2] ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
}

/**
 * The one-click unsubscribe link the HTTP endpoint answers (`POST`, RFC 8058).
 *
 * @example unsubscribeUrlFor('https://gym.example.org', '17…') // 'https://gym.example.org/unsubscribe/17…'
 */
export function unsubscribeUrlFor(publicUrl: string, token: string): string {
  return new URL(`unsubscribe/${encodeURIComponent(token)}`, `${publicUrl.replace(/\/+$/, '')}/`)
    .href;
}

const messageIdMacBytes = 8;
const messageIdPattern = /^<?d(\d{1,16})(?:r(\d{1,9}))?\.([a-z2-7]{13})@[^<>\s]+>?$/;

/**
 * The Message-ID of a delivery: `<d<deliveryId>[r<revision>].<mac>@<domain>>`. Derived from the
 * id and the secret, with no randomness, so a retry after a crash re-sends with the same
 * Message-ID and receivers that have the first copy drop the second. The MAC keeps ids of other
 * deliveries unguessable and lets a reply's In-Reply-To be checked without the database.
 */
export function messageIdFor(
  secret: string,
  ref: { readonly deliveryId: number; readonly domain: string; readonly revision?: number },
): string {
  const revision = ref.revision ?? 0;
  if (!Number.isSafeInteger(ref.deliveryId) || ref.deliveryId < 0) {
    throw new GymError('MAIL_INVALID', `no Message-ID for delivery id ${String(ref.deliveryId)}`, {
      deliveryId: ref.deliveryId,
    });
  }
  if (!Number.isInteger(revision) || revision < 0 || revision > 999_999_999) {
    throw new GymError('MAIL_INVALID', `no Message-ID for revision ${String(revision)}`, {
      deliveryId: ref.deliveryId,
      revision,
    });
  }
  if (!/^[a-z0-9.-]+$/i.test(ref.domain)) {
    throw new GymError('MAIL_INVALID', `no Message-ID on domain ${JSON.stringify(ref.domain)}`, {
      domain: ref.domain,
    });
  }
  const local = revision === 0 ? `d${ref.deliveryId}` : `d${ref.deliveryId}r${revision}`;
  return `<${local}.${messageIdMac(secret, ref.deliveryId, revision)}@${ref.domain.toLowerCase()}>`;
}

/**
 * The delivery a Message-ID we made names (from a reply's In-Reply-To or References), or
 * undefined for anyone else's id or a forged one. Never throws.
 */
export function deliveryFromMessageId(
  secret: string,
  messageId: string,
): { readonly deliveryId: number; readonly revision: number } | undefined {
  if (typeof messageId !== 'string' || messageId.length > 300) return undefined;
  const match = messageIdPattern.exec(messageId.trim().toLowerCase());
  if (match === null) return undefined;
  const deliveryId = Number(match[1]);
  const revision = Number(match[2] ?? 0);
  if (!Number.isSafeInteger(deliveryId)) return undefined;
  const expected = Buffer.from(messageIdMac(secret, deliveryId, revision));
  const given = Buffer.from(match[3] ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return { deliveryId, revision };
}

/**
 * The Message-ID of a manager digest: `<g<digestId>.<mac>@<domain>>`, stable across retries like
 * a delivery's, in its own namespace so that it never reads as a learner's delivery.
 */
export function digestMessageIdFor(
  secret: string,
  ref: { readonly digestId: number; readonly domain: string },
): string {
  const mac = macOf(secret, `digital-gym:digest:v1:${ref.digestId}`, messageIdMacBytes);
  return `<g${ref.digestId}.${mac}@${ref.domain.toLowerCase()}>`;
}

/** The digest a Message-ID we made names (a manager's In-Reply-To), or undefined. Never throws. */
export function digestFromMessageId(secret: string, messageId: string): number | undefined {
  if (typeof messageId !== 'string' || messageId.length > 300) return undefined;
  const match = /^<?g(\d{1,16})\.([a-z2-7]{13})@[^<>\s]+>?$/.exec(messageId.trim().toLowerCase());
  if (match === null) return undefined;
  const digestId = Number(match[1]);
  if (!Number.isSafeInteger(digestId)) return undefined;
  const expected = Buffer.from(
    macOf(secret, `digital-gym:digest:v1:${digestId}`, messageIdMacBytes),
  );
  const given = Buffer.from(match[2] ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? digestId
    : undefined;
}

/**
 * The domain of a sender as `GYM_FROM` gives it (`Name <user@domain>` or `user@domain`), in lower
 * case and ASCII.
 */
export function domainOf(mailbox: string): string {
  const address = /<([^<>]+)>\s*$/.exec(mailbox)?.[1] ?? mailbox;
  const at = address.lastIndexOf('@');
  // An internationalised domain goes out in its ASCII (punycode) form, as headers need.
  const domain = at <= 0 ? '' : domainToASCII(address.slice(at + 1).trim());
  if (!/^[a-z0-9.-]+$/.test(domain)) {
    throw new GymError('MAIL_INVALID', `no domain in sender ${JSON.stringify(mailbox)}`, {
      mailbox,
    });
  }
  return domain;
}

function messageIdMac(secret: string, deliveryId: number, revision: number): string {
  return macOf(secret, `digital-gym:message-id:v1:${deliveryId}:${revision}`, messageIdMacBytes);
}
