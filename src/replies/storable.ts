import { createHash } from 'node:crypto';
import type { ReadMessage } from './types.js';

/**
 * What a stranger writes in a header, made into something PostgreSQL always accepts. One message
 * the database refuses would otherwise stop the mailbox at it for good (#16): a Message-ID over
 * the unique index's ~2.7 KB row limit, a Date before 4713 BC, a subject that decodes to a lone
 * UTF-16 surrogate (text and jsonb refuse both it and U+0000).
 *
 * The reply handler runs every message through `storableRead` between the reader and the store;
 * the store runs every string it writes through `storableText`, as a last line.
 */

/** Message-IDs longer than this are stored under a hash; ours are under 100 characters. */
export const maxMessageIdChars = 500;

/** Dates outside these years are not believed: PostgreSQL and our plans cannot use them. */
const earliestYear = 1970;
const latestYear = 9999;

// A high surrogate not followed by a low one, or a low one not preceded by a high one. Without
// the `u` flag a regular expression works on UTF-16 code units, which is what we need here.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text without U+0000 and with every lone surrogate replaced by U+FFFD (`toWellFormed`). */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '').replace(loneSurrogate, '\uFFFD');
}

/**
 * The unique key a Message-ID is stored under: itself when short and clean, else a hash of it
 * (the original is kept in the row's summary). The same id always gives the same key, so a
 * message read twice is still one row.
 */
export function messageKey(messageId: string): string {
  const text = storableText(messageId);
  if (text === messageId && text.length <= maxMessageIdChars) return text;
  const digest = createHash('sha256').update(messageId, 'utf8').digest('hex').slice(0, 40);
  return `<sha256-${digest}@long-id.invalid>`;
}

/** Every string in a plain value made storable (arrays and objects walked). */
function deepStorable<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map(deepStorable) as T;
  if (value instanceof Date || value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, deepStorable(inner)]),
  ) as T;
}

export interface StorableRead {
  /** The message with storable strings, a usable date or none, and only thread ids we can key. */
  readonly read: ReadMessage;
  /** The key of `inbound_messages.message_id`; undefined when the message has no Message-ID. */
  readonly key: string | undefined;
  /** The Message-ID as written (storable text), kept beside its key when that is a hash. */
  readonly writtenMessageId: string | undefined;
  /** What was changed and why, for the row's summary (empty when nothing was). */
  readonly repairs: readonly string[];
}

/**
 * A read message in forms the database accepts, with the reasons for each change. Pure: the
 * date check uses fixed years, not the clock, so the same message gives the same result.
 */
export function storableRead(read: ReadMessage): StorableRead {
  const repairs: string[] = [];
  const clean = deepStorable(read);
  if (JSON.stringify(clean) !== JSON.stringify(read))
    repairs.push('NUL characters or lone UTF-16 surrogates were replaced');

  let date = read.date;
  if (date !== undefined) {
    const year = date.getUTCFullYear();
    if (Number.isNaN(year) || year < earliestYear || year > latestYear) {
      repairs.push(
        `the Date header's year ${Number.isNaN(year) ? '(none)' : year} is outside ${earliestYear}-${latestYear}; the time of reading is used`,
      );
      date = undefined;
    }
  }

  let key: string | undefined;
  if (read.messageId !== undefined) {
    key = messageKey(read.messageId);
    if (key !== read.messageId)
      repairs.push(
        `the Message-ID (${read.messageId.length} characters) is stored under its hash ${key}`,
      );
  }

  // A thread id that long is none of ours: it can only make headers and rows too large. Dropping
  // it changes nothing we act on, so it is not a repair that holds the message.
  const threadIds = clean.threadIds.filter((id) => id.length <= maxMessageIdChars);
  const messageId =
    clean.messageId !== undefined && clean.messageId.length <= maxMessageIdChars
      ? clean.messageId
      : undefined;

  return {
    read: { ...clean, date, threadIds, messageId },
    key,
    writtenMessageId: clean.messageId,
    repairs,
  };
}
