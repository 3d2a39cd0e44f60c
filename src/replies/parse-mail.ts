import type {
  AddressObject,
  Attachment,
  EmailAddress,
  HeaderLines,
  HeaderValue,
  ParsedMail,
  SimpleParserOptions,
  StructuredHeader,
} from 'mailparser';
import type * as Mailparser from 'mailparser';
import type { InboundEnvelope } from './types.js';

/**
 * Raw message bytes -> a plain, normalised object: the envelope facts the matcher needs and the
 * parts classification needs (calendar parts, delivery reports). Nothing here decides what the
 * message is; `classify` does, from this object alone.
 */

/** An iCalendar part: a `text/calendar` body part or an `.ics` attachment. */
export interface CalendarPart {
  /** The MIME `method` parameter (iMIP, RFC 6047), upper case, when the part has one. */
  readonly method: string | undefined;
  /** Lower case (`text/calendar`, `application/ics`). */
  readonly contentType: string;
  readonly filename: string | undefined;
  /** The iCalendar text as it came (folded lines included), decoded; at most `maxPartChars`. */
  readonly content: string;
}

export interface ParsedInbound extends InboundEnvelope {
  /**
   * Every top-level header: lower-case name -> its values in message order, unfolded and trimmed,
   * encoded words left as they are (the subject, decoded, is `subject`).
   */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  /** The top-level MIME type, lower case (`multipart/report`); `text/plain` when there is none. */
  readonly contentType: string;
  /** The `report-type` parameter of a `multipart/report`, lower case. */
  readonly reportType: string | undefined;
  /** The text/plain parts; undefined when there is none (HTML is never converted into it). */
  readonly text: string | undefined;
  readonly html: string | undefined;
  readonly calendarParts: readonly CalendarPart[];
  /** The bodies of `message/delivery-status` parts (RFC 3464 fields), decoded. */
  readonly deliveryStatus: readonly string[];
  /**
   * The header blocks of attached messages (`text/rfc822-headers`, or the head of a
   * `message/rfc822`); in a bounce, the headers of the message that came back.
   */
  readonly returnedHeaders: readonly string[];
}

/** Larger messages are refused before parsing: no learner's reply comes near it. */
export const maxInboundBytes = 25 * 1024 * 1024;
/** How much of one calendar or report part is kept: real ones are a few KB. */
export const maxPartChars = 256 * 1024;
/** Thread ids kept, newest first: a References chain can be thousands of ids long. */
const maxThreadIds = 100;

/** A message over `maxInboundBytes`; the caller can skip it and say why. */
export class InboundTooLargeError extends Error {
  override readonly name = 'InboundTooLargeError';

  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      `inbound message is ${size} bytes, over the ${limit}-byte limit (${limit / 1024 / 1024} MiB); not parsed`,
    );
  }
}

/**
 * Parses one raw message (RFC 5322 bytes, as IMAP returns them). Rejects only a message over
 * `maxInboundBytes` (InboundTooLargeError) or one past the parser's structure limits
 * (InboundParseError); broken charsets, encodings and headers give what could be read.
 */
export async function parseMail(raw: Buffer): Promise<ParsedInbound> {
  if (raw.length > maxInboundBytes) throw new InboundTooLargeError(raw.length, maxInboundBytes);
  mailparser ??= await import('mailparser');
  let parsed: ParsedMail;
  try {
    parsed = await mailparser.simpleParser(raw, parserOptions);
  } catch (cause) {
    throw new InboundParseError(cause);
  }
  return normalise(parsed);
}

// Loaded by the first message read, not at start-up: a worker that only sends never reads mail,
// and mailparser with its dependencies is tens of megabytes of a worker's memory (#17).
let mailparser: typeof Mailparser | undefined;

const maxMimeParts = 200;
const maxPartHeadBytes = 256 * 1024;

const parserOptions = {
  // Delivery reports and attached messages stay attachments, so `text` is only what a person
  // wrote and the returned headers can be read as they came.
  keepDeliveryStatus: true,
  ignoreEmbedded: true,
  // HTML is given as it is: converting it to text is slow on hostile input and loses the
  // structure (blockquote, gmail_quote) that finds the quoted history.
  skipHtmlToText: true,
  maxHtmlLengthToParse: 2 * 1024 * 1024,
  // No work we never read: no data: URLs for inline images, no linkified text, no checksums.
  keepCidLinks: true,
  skipImageLinks: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  checksumAlgo: false,
  // A reply has a handful of parts; thousands of them, or huge part headers, are an attack.
  maxChildNodes: maxMimeParts,
  maxHeadSize: maxPartHeadBytes,
} as const satisfies SimpleParserOptions;

/** A message past mailparser's structure limits (or that its stream rejected). */
export class InboundParseError extends Error {
  override readonly name = 'InboundParseError';

  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `inbound message not parsed: ${reason} (limits: ${maxMimeParts} MIME parts, ${maxPartHeadBytes / 1024} KiB of headers per part)`,
      { cause },
    );
  }
}

function normalise(parsed: ParsedMail): ParsedInbound {
  const headers = headerMap(parsed.headerLines ?? []);
  const first = (name: string) => headers[name]?.[0];
  const from = mailboxesOf(parsed.from)[0];
  const contentType = contentTypeOf(first('content-type'));
  const attachments = parsed.attachments ?? [];
  return {
    messageId: messageIdOf(first('message-id')),
    date: dateOf(first('date')),
    from: lowerAddress(from?.address),
    fromName: from?.name ? from.name : undefined,
    subject: typeof parsed.subject === 'string' ? parsed.subject : '',
    recipients: recipientsOf(parsed, headers),
    threadIds: threadIdsOf(headers['in-reply-to'] ?? [], headers['references'] ?? []),
    headers,
    contentType: contentType.type,
    reportType:
      contentType.type === 'multipart/report'
        ? contentType.params['report-type']?.toLowerCase()
        : undefined,
    text: hasWords(parsed.text) ? parsed.text : undefined,
    html: hasWords(parsed.html) ? parsed.html : undefined,
    calendarParts: attachments.filter(isCalendar).map(calendarPartOf),
    deliveryStatus: attachments
      .filter((a) => deliveryStatusTypes.has(a.contentType.toLowerCase()))
      .map((a) => decode(a.content, charsetOf(a))),
    returnedHeaders: attachments.flatMap(returnedHeadersOf),
  };
}

/** Raw header lines -> name -> unfolded values, in order. Prototype-safe for any header name. */
export function headerMap(lines: HeaderLines): Readonly<Record<string, readonly string[]>> {
  const map = new Map<string, string[]>();
  for (const { key, line } of lines) {
    const colon = line.indexOf(':');
    if (key === '' || colon < 0) continue;
    // Unfolding (RFC 5322 2.2.3) removes the line break and keeps the white space after it.
    const value = line
      .slice(colon + 1)
      .replace(/\r?\n(?=[ \t])/g, '')
      .replace(/[\r\n]+/g, ' ')
      .trim();
    const name = key.toLowerCase();
    const values = map.get(name);
    if (values === undefined) map.set(name, [value]);
    else values.push(value);
  }
  // fromEntries defines own properties, so a header named `__proto__` is just a key.
  return Object.fromEntries(map);
}

const hasWords = (value: unknown): value is string =>
  typeof value === 'string' && value.trim() !== '';

/** `<id@host>` as written; a bare id gets its brackets, as mailparser would. */
function messageIdOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const bracketed = /<[^<>\s]+>/.exec(value)?.[0];
  if (bracketed !== undefined) return bracketed;
  const bare = /^[^<>\s]+$/.exec(value)?.[0];
  return bare === undefined ? undefined : `<${bare}>`;
}

/**
 * The Date header, or undefined when missing or unreadable. Read from the raw line: mailparser
 * puts the *current time* in `date` for a Date it cannot parse.
 */
function dateOf(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Every mailbox of an address header (or several), groups flattened. */
function mailboxesOf(header: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  const objects = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const flatten = (entries: EmailAddress[]): EmailAddress[] =>
    entries.flatMap((entry) => (entry.group ? flatten(entry.group) : [entry]));
  return objects.flatMap((object) => flatten(object.value ?? []));
}

function lowerAddress(address: string | undefined): string | undefined {
  const trimmed = address?.trim().toLowerCase();
  return trimmed ? trimmed : undefined;
}

/** To, Cc, then every Delivered-To and X-Original-To (read raw: they repeat), deduplicated. */
function recipientsOf(
  parsed: ParsedMail,
  headers: Readonly<Record<string, readonly string[]>>,
): string[] {
  const fromHeaders = (name: string) =>
    (headers[name] ?? []).flatMap((value) => mailboxesOf(safeAddressHeader(value)));
  const all = [
    ...mailboxesOf(parsed.to),
    ...mailboxesOf(parsed.cc),
    ...fromHeaders('delivered-to'),
    ...fromHeaders('x-original-to'),
  ];
  const addresses = all.map((mailbox) => lowerAddress(mailbox.address));
  return [...new Set(addresses.filter((address) => address !== undefined))];
}

function safeAddressHeader(value: string): AddressObject | undefined {
  try {
    // Only reached from `normalise`, after `parseMail` has loaded mailparser.
    return mailparser!.parseAddressHeader(value, { flatten: true });
  } catch {
    return undefined;
  }
}

/** In-Reply-To, then References newest first (it lists oldest first); each `<...>`, no repeats. */
export function threadIdsOf(inReplyTo: readonly string[], references: readonly string[]): string[] {
  const idsIn = (values: readonly string[]) =>
    values.flatMap((value) => {
      const bracketed = value.match(/<[^<>\s]+>/g);
      if (bracketed !== null) return bracketed;
      // Some old clients write the id without brackets.
      return /^[^<>\s]+@[^<>\s]+$/.test(value.trim()) ? [`<${value.trim()}>`] : [];
    });
  const ids = [...idsIn(inReplyTo), ...idsIn(references).reverse()];
  return [...new Set(ids)].slice(0, maxThreadIds);
}

interface ContentType {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
}

/** `multipart/report; report-type=delivery-status` -> lower-case type and parameters. */
export function contentTypeOf(value: string | undefined): ContentType {
  if (value === undefined) return { type: 'text/plain', params: {} };
  const [type = '', ...rest] = splitOutsideQuotes(value, ';');
  const params = new Map<string, string>();
  for (const param of rest) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    const name = param.slice(0, eq).trim().toLowerCase();
    const raw = param.slice(eq + 1).trim();
    params.set(name, raw.replace(/^"(.*)"$/s, '$1').replace(/\\(.)/g, '$1'));
  }
  return { type: type.trim().toLowerCase() || 'text/plain', params: Object.fromEntries(params) };
}

/** Splits on `separator` where it is not inside double quotes. */
export function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && quoted && i + 1 < value.length) {
      current += c + value[i + 1]!;
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

const calendarTypes = new Set(['text/calendar', 'application/ics', 'text/x-vcalendar']);
const deliveryStatusTypes = new Set([
  'message/delivery-status',
  'message/global-delivery-status', // RFC 6533, for SMTPUTF8 mail
]);
const headerOnlyTypes = new Set(['text/rfc822-headers', 'message/global-headers']);
const messageTypes = new Set(['message/rfc822', 'message/global']);

function isCalendar(attachment: Attachment): boolean {
  return (
    calendarTypes.has(attachment.contentType.toLowerCase()) ||
    /\.ics$/i.test(attachment.filename ?? '')
  );
}

function calendarPartOf(attachment: Attachment): CalendarPart {
  const method = paramsOf(attachment)['method']?.trim().toUpperCase();
  return {
    method: method ? method : undefined,
    contentType: attachment.contentType.toLowerCase(),
    filename: attachment.filename,
    content: decode(attachment.content, charsetOf(attachment)),
  };
}

function returnedHeadersOf(attachment: Attachment): string[] {
  const type = attachment.contentType.toLowerCase();
  if (headerOnlyTypes.has(type)) return [decode(attachment.content, charsetOf(attachment))];
  if (!messageTypes.has(type)) return [];
  // The head of the attached message: everything up to its first empty line.
  const text = decode(attachment.content, 'utf-8');
  const end = /\r?\n\r?\n/.exec(text);
  return [end === null ? text : text.slice(0, end.index)];
}

function paramsOf(attachment: Attachment): Readonly<Record<string, string>> {
  const header = attachment.headers.get('content-type');
  return isStructured(header) ? header.params : {};
}

function isStructured(value: HeaderValue | undefined): value is StructuredHeader {
  return (
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    typeof value.value === 'string' &&
    'params' in value &&
    typeof value.params === 'object'
  );
}

function charsetOf(attachment: Attachment): string {
  return paramsOf(attachment)['charset'] ?? 'utf-8';
}

/** Bytes -> text in the part's charset (UTF-8 when unknown), capped; never throws. */
function decode(content: Buffer, charset: string): string {
  const bytes = content.subarray(0, maxPartChars * 4);
  let text: string;
  try {
    text = new TextDecoder(charset).decode(bytes);
  } catch {
    text = new TextDecoder('utf-8').decode(bytes);
  }
  return text.slice(0, maxPartChars);
}
