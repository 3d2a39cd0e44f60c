import { createHmac } from 'node:crypto';
import { domainToASCII } from 'node:url';

/**
 * Consent: the one place that decides whether a person's "no" covers a piece of mail or an
 * enrolment. Pure: plain rows in, a decision out. Storage (`src/db/suppression-store.ts`) finds
 * the active rows for an address; enrolment, the dispatcher and the digest sender ask here.
 *
 * Two different noes, kept distinct in words and effect:
 * - "Unsubscribe" (scope `all`): no more mail from Digital Gym at all, on any programme.
 * - "Stop the programme" (scope `programme:<id>`): this programme ends and is never started for
 *   them again; another programme, or a manager's digest about their people, is not covered.
 * A manager's unsubscribe from the digest is scope `digests`: their digests stop, and their
 * people's programmes go on.
 */

/** How a person said no. */
export const suppressionHows = [
  'one_click',
  'link_confirm',
  'mailto',
  'reply',
  'hard_bounce',
  'complaint',
  'by_hand',
  /** The person's data was erased (`gym learner erase`); the row keeps only a keyed hash. */
  'erasure',
] as const;
export type SuppressionHow = (typeof suppressionHows)[number];

/** `all`, `digests`, or `programme:<id>` (a stopped programme). */
export type SuppressionScope = 'all' | 'digests' | `programme:${string}`;

/** An active (not lifted) suppression row. */
export interface Suppression {
  readonly address: string;
  readonly scope: SuppressionScope;
  readonly how: SuppressionHow;
  readonly createdAt: Date;
}

/** What is about to happen to an address. */
export type MailPurpose =
  /** A step email or invite of a programme, or enrolling in it. */
  | { readonly kind: 'programme'; readonly programmeId: string }
  /** The threaded answer to a reply the person sent. */
  | { readonly kind: 'acknowledgement' }
  /** METHOD:CANCEL of an invite already in their calendar: it frees the slot they gave us. */
  | { readonly kind: 'withdrawal' }
  /** A manager's fortnightly digest. */
  | { readonly kind: 'digest' };

/**
 * The address as suppressions store it: trimmed, lower-cased, its domain in ASCII (punycode), so
 * `Sam@Bücher.example ` and `sam@xn--bcher-kva.example` are one person.
 *
 * @example normaliseAddress(' Sam@Bücher.Example ') // 'sam@xn--bcher-kva.example'
 */
export function normaliseAddress(address: string): string {
  const bracketed = /<([^<>]*)>\s*$/.exec(address)?.[1] ?? address;
  const bare = bracketed.trim();
  const at = bare.lastIndexOf('@');
  if (at <= 0) return bare.toLowerCase();
  const domain = bare.slice(at + 1).toLowerCase();
  // domainToASCII answers '' for a domain it cannot convert: keep the lower-cased original then.
  const ascii = domainToASCII(domain);
  return `${bare.slice(0, at).toLowerCase()}@${ascii === '' ? domain : ascii}`;
}

/**
 * The suppression that forbids `purpose` for this person, or undefined when it may go ahead.
 * `rows` are the person's active suppressions (any address form; they are compared normalised).
 *
 * - `all` forbids every message and every enrolment. A withdrawal of an invite (CANCEL) still
 *   goes after an unsubscribe: it removes what we put in their calendar, and the person asked us
 *   to go away, not to leave them with phantom meetings. After a hard bounce or a complaint
 *   nothing goes at all: the address is dead or the person called us spam.
 * - `programme:<id>` forbids that programme's steps and a new enrolment in it. The
 *   acknowledgement of the stop itself, and withdrawals, still go.
 * - `digests` forbids only a manager's digests.
 *
 * @example suppressionFor([{ scope: 'digests', ... }], { kind: 'programme', programmeId: 'x' }) // undefined
 */
export function suppressionFor(
  rows: readonly Suppression[],
  purpose: MailPurpose,
): Suppression | undefined {
  const covers = (row: Suppression): boolean => {
    switch (purpose.kind) {
      case 'withdrawal':
        return row.scope === 'all' && (row.how === 'hard_bounce' || row.how === 'complaint');
      case 'digest':
        return row.scope === 'all' || row.scope === 'digests';
      case 'acknowledgement':
        return row.scope === 'all';
      case 'programme':
        return row.scope === 'all' || row.scope === `programme:${purpose.programmeId}`;
    }
  };
  // The oldest no wins: it is the one the person will remember.
  return [...rows].filter(covers).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())[0];
}

const howWords: Readonly<Record<SuppressionHow, string>> = {
  one_click: 'one-click',
  link_confirm: 'unsubscribe page',
  mailto: 'unsubscribe email',
  reply: 'reply',
  hard_bounce: 'hard bounce',
  complaint: 'complaint',
  by_hand: 'by hand',
  erasure: 'erasure',
};

/**
 * The suppression in words, for enrolment output and cancelled rows' reasons.
 *
 * @example describeSuppression({ scope: 'all', how: 'one_click', createdAt }) // 'unsubscribed on 2027-02-03 (one-click)'
 */
export function describeSuppression(row: Suppression): string {
  const day = row.createdAt.toISOString().slice(0, 10);
  const how = howWords[row.how];
  if (row.scope === 'digests') return `stopped the manager digests on ${day} (${how})`;
  if (row.scope === 'all') {
    if (row.how === 'erasure') return `had their data erased on ${day} (erasure)`;
    if (row.how === 'hard_bounce') return `address bounced on ${day} (${how})`;
    if (row.how === 'complaint') return `complained on ${day} (${how})`;
    return `unsubscribed on ${day} (${how})`;
  }
  return `stopped ${row.scope.slice('programme:'.length)} on ${day} (${how})`;
}

/**
 * What an erased person's suppressions keep instead of their address: a keyed hash (HMAC-SHA256
 * with the instance's secret, GYM_SECRET) of the normalised address. Nobody without the secret
 * can test an address against it, and with it only a known address can be recognised, which is
 * all a re-import needs. Rotating GYM_SECRET makes earlier fingerprints unrecognisable.
 *
 * @example addressFingerprint(secret, 'Sam@Example.org') // 'hmac:3f1c…' (64 hex digits)
 */
export function addressFingerprint(secret: string, address: string): string {
  const mac = createHmac('sha256', secret)
    .update(`digital-gym:erased-address:v1:${normaliseAddress(address)}`)
    .digest('hex');
  return `hmac:${mac}`;
}

/** The scope a stop of this programme writes. */
export function programmeScope(programmeId: string): SuppressionScope {
  return `programme:${programmeId}`;
}

/** Reads the active suppressions of some addresses; `src/db/suppression-store.ts` implements it. */
export interface ConsentReader {
  /** Active rows for these addresses (normalised by the reader), in one query. */
  suppressionsOf(addresses: readonly string[]): Promise<Suppression[]>;
}
