import { readFileSync } from 'node:fs';
import { simpleParser, type AddressObject } from 'mailparser';
import type { ReceivedMessage } from '../mail/helpers.js';

const fixtures = new URL('../fixtures/replies/', import.meta.url);

/** One message our `gym run` sent, as the learner's mail client sees it. */
export interface SentMail {
  readonly messageId: string;
  readonly subject: string;
  /** The learner it went to. */
  readonly to: string;
  /** Our Reply-To: the plus-address with the signed token (empty for none). */
  readonly replyTo: string;
  readonly inReplyTo: string | undefined;
  /** The Auto-Submitted header: `auto-generated` for programme mail, `auto-replied` for acks. */
  readonly autoSubmitted: string | undefined;
  /** The iTIP method of an attached calendar (REQUEST, CANCEL), if any. */
  readonly calendarMethod: string | undefined;
  readonly text: string;
}

const firstAddress = (value: AddressObject | AddressObject[] | undefined) =>
  ((Array.isArray(value) ? value[0] : value)?.value[0]?.address ?? '').toLowerCase();

/**
 * The METHOD of the attached iCalendar object, read from the decoded part: compose writes a
 * calendar with long or non-ASCII lines as base64 (#17), where `METHOD:` is not in the raw bytes.
 */
function calendarMethodOf(
  attachments: readonly { contentType: string; content: Buffer }[],
  raw: string,
): string | undefined {
  for (const part of attachments)
    if (part.contentType.toLowerCase() === 'text/calendar') {
      const method = /^METHOD:([A-Z]+)/m.exec(part.content.toString('utf8'))?.[1];
      if (method !== undefined) return method;
    }
  return /^METHOD:([A-Z]+)/m.exec(raw)?.[1];
}

export async function readSent(message: ReceivedMessage): Promise<SentMail> {
  const mail = await simpleParser(message.data);
  const raw = message.data.toString('latin1');
  const autoSubmitted = mail.headers.get('auto-submitted');
  return {
    messageId: mail.messageId ?? '',
    subject: mail.subject ?? '',
    to: firstAddress(mail.to),
    replyTo: firstAddress(mail.replyTo),
    inReplyTo: mail.inReplyTo,
    autoSubmitted: typeof autoSubmitted === 'string' ? autoSubmitted : undefined,
    calendarMethod: calendarMethodOf(mail.attachments, raw),
    text: mail.text ?? '',
  };
}

/** RFC 2047 for a header value that is not plain ASCII. */
function encodedWord(value: string): string {
  return /^[\x20-\x7e]*$/.test(value)
    ? value
    : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** Base64 in 76-character lines, as MIME writes it. */
function base64Lines(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

export interface Rewrite {
  /** Header fields to set (replacing the fixture's own); undefined removes the field. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Our real subject in place of the fixture's "Week 3: your practice task" (prefix kept). */
  readonly subject?: string;
  /** Literal replacements in the body (all occurrences, case-insensitive). */
  readonly body?: readonly (readonly [string, string])[];
  /** A change to every iCalendar object in the body, however it is encoded. */
  readonly calendar?: (ics: string) => string;
}

// Transport traces and the fixture's own recipients name the fixture's tokens: they go.
const alwaysDropped = new Set(['received', 'delivered-to', 'return-path', 'x-received']);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A fixture from test/fixtures/replies with its envelope headers rewritten to answer one of our
 * real messages; the body's MIME structure and encodings stay as the client wrote them.
 */
export function rewriteFixture(name: string, rewrite: Rewrite): Buffer {
  const bytes = readFileSync(new URL(name, fixtures));
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`${name}: no CRLF CRLF after the headers`);
  const fields: string[] = [];
  for (const line of text.slice(0, end).split('\r\n')) {
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1] += `\r\n${line}`;
    else fields.push(line);
  }
  const set = new Map(Object.entries(rewrite.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const kept = fields.flatMap((field) => {
    const key = field.slice(0, field.indexOf(':')).toLowerCase();
    if (alwaysDropped.has(key) || set.has(key)) return [];
    if (key === 'subject' && rewrite.subject !== undefined) {
      const value = field.slice(field.indexOf(':') + 1).trim();
      if (value.includes('Week 3: your practice task'))
        return [
          `Subject: ${encodedWord(value.replace('Week 3: your practice task', rewrite.subject))}`,
        ];
    }
    return [field];
  });
  const added = [...set].flatMap(([key, value]) =>
    value === undefined ? [] : [`${headerName(key)}: ${encodedWord(value)}`],
  );

  let body = text.slice(end);
  for (const [from, to] of rewrite.body ?? []) {
    body = body.replace(new RegExp(escapeRegExp(from), 'gi'), to);
  }
  if (rewrite.calendar !== undefined) body = rewriteCalendars(body, rewrite.calendar);
  return Buffer.from(`${[...added, ...kept].join('\r\n')}${body}`, 'latin1');
}

function headerName(key: string): string {
  if (key === 'message-id') return 'Message-ID';
  return key.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * Applies `change` to each iCalendar object in a body: in base64 parts (decoded and encoded
 * again), in quoted-printable parts (soft line breaks joined first) and in plain ones.
 */
function rewriteCalendars(body: string, change: (ics: string) => string): string {
  const base64 =
    /(Content-Transfer-Encoding: base64\r\n(?:[^\r\n]+\r\n)*?\r\n)([A-Za-z0-9+/=\r\n]+?)(?=\r\n--)/gi;
  let out = body.replace(base64, (whole, head: string, data: string) => {
    const decoded = Buffer.from(data.replace(/\r\n/g, ''), 'base64').toString('utf8');
    if (!decoded.includes('BEGIN:VCALENDAR')) return whole;
    return head + base64Lines(Buffer.from(change(decoded), 'utf8'));
  });
  // Quoted-printable calendars: their soft line breaks joined (longer lines, still valid to read).
  out = out.replace(
    /(Content-Transfer-Encoding: quoted-printable\r\n(?:[^\r\n]+\r\n)*?\r\n)(BEGIN:VCALENDAR[\s\S]*?END:VCALENDAR)/gi,
    (_whole, head: string, ics: string) => head + ics.replace(/=\r\n/g, ''),
  );
  // Then every calendar now in plain text (7bit, or quoted-printable joined above).
  return out.replace(/BEGIN:VCALENDAR[\s\S]*?END:VCALENDAR/g, (ics) => change(ics));
}

/** A new calendar UID and attendee in an iTIP REPLY (unfolded first, as a reader would). */
export function answerInvite(uid: string, attendee: string, previousAttendee: string) {
  return (ics: string): string =>
    ics
      .replace(/\r\n[ \t]/g, '')
      .replace(/^UID:.*$/m, `UID:${uid}`)
      .replace(new RegExp(escapeRegExp(previousAttendee), 'gi'), attendee);
}

/** RFC 5322 date. */
export function rfcDate(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}
