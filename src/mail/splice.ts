import MailComposer from 'nodemailer/lib/mail-composer';
import { foldLines } from 'nodemailer/lib/mime-funcs';
import { composeMessage, mailComposerOptions, type OutgoingMessage } from './compose.js';

/**
 * Composition by splicing (#17): the MIME of a message is built once per shape with nodemailer
 * (headers, their order and encoding, the structure, the boundaries), and each recipient's
 * message is that template with their own values put in its slots: To, Reply-To, Subject,
 * Message-ID, Date, List-Unsubscribe, In-Reply-To, References, and the bodies (text, HTML, the
 * invite's ICS), base64 by Node's native encoder. No MimeNode tree is built per recipient.
 *
 * Every header slot is written by nodemailer's own header encoder and folder (`encodeHeaderValue`,
 * `foldLines`), so a recipient's headers are byte for byte what nodemailer writes for them
 * (test/mail/splice.test.ts proves it, and that every message of every shipped programme reads
 * the same as `composeMessage`'s). Only the transfer encoding of a body can differ: always
 * base64 here, where nodemailer writes short ASCII text as it is (7bit); decoded, the same bytes.
 *
 * What is static comes from the template's key (the sender, the headers that are not slots and
 * their values, which parts there are): a wave is a handful of shapes, whatever its steps.
 */

/** The headers that differ between recipients of the same shape; every other header is static. */
const slotHeaders = new Set([
  'to',
  'reply-to',
  'subject',
  'message-id',
  'date',
  'list-unsubscribe',
  'in-reply-to',
  'references',
]);

type BodySlot = 'text' | 'html' | 'ics';
type Segment = string | { readonly header: string } | { readonly body: BodySlot };

/** A message shape's MIME, as static text and the slots a recipient's message fills. */
export interface MessageTemplate {
  readonly segments: readonly Segment[];
}

/** What nodemailer's MimeNode offers that the slots use (lib/mime-node). */
interface HeaderEncoder {
  encodeHeaderValue(key: string, value: unknown): string;
}

/** The MimeNode API the template is read from (a tree built by MailComposer's `compile()`). */
interface MimeTree extends HeaderEncoder {
  readonly multipart: string | false | undefined;
  readonly boundary: string | false;
  readonly childNodes: readonly MimeTree[];
  readonly content?: unknown;
  getHeader(key: string): string | undefined;
  getTransferEncoding(): string | false;
  setHeader(key: string, value: string): void;
  buildHeaders(): string;
}

/**
 * The key of a message's shape: everything the template writes as static text. Two messages
 * with the same key differ only in the slots.
 */
export function shapeOf(message: OutgoingMessage): string {
  const headers = Object.entries(message.headers ?? {}).map(([key, value]) =>
    slotHeaders.has(key.toLowerCase()) ? [key] : [key, value],
  );
  return JSON.stringify([
    message.from,
    message.html === undefined,
    message.calendar?.method ?? null,
    message.inReplyTo === undefined,
    message.references === undefined || message.references.length === 0,
    headers,
  ]);
}

/**
 * Builds the template of `message`'s shape from nodemailer's composition of `message` itself.
 * Undefined when the message has a part the slots do not cover (then it is composed whole).
 */
export function buildTemplate(message: OutgoingMessage): MessageTemplate | undefined {
  const root = new MailComposer(mailComposerOptions(message)).compile() as unknown as MimeTree;
  const segments: Segment[] = [];
  if (!templateOf(root, true, segments)) return undefined;
  // Adjacent static text in one string: fewer pieces to join per message.
  const merged: Segment[] = [];
  for (const segment of segments) {
    const last = merged.at(-1);
    if (typeof segment === 'string' && typeof last === 'string')
      merged[merged.length - 1] = last + segment;
    else merged.push(segment);
  }
  return { segments: merged };
}

function templateOf(node: MimeTree, isRoot: boolean, out: Segment[]): boolean {
  const type = (node.getHeader('Content-Type') ?? '').toLowerCase();
  // (nodemailer settles `multipart` and the boundary when it builds the headers, below.)
  const multipart = type.startsWith('multipart/');
  const body: BodySlot | undefined = multipart
    ? undefined
    : type.startsWith('text/plain')
      ? 'text'
      : type.startsWith('text/html')
        ? 'html'
        : type.startsWith('text/calendar') || type.startsWith('application/ics')
          ? 'ics'
          : undefined;
  if (!multipart && body === undefined) return false;
  // Every body base64: the one encoding that is right whatever a recipient's text holds.
  if (body !== undefined) node.setHeader('Content-Transfer-Encoding', 'base64');
  const head = node.buildHeaders();
  if (isRoot) out.push(...headerSegments(head));
  else out.push(head);
  out.push('\r\n\r\n');
  if (multipart) {
    const boundary = node.boundary as string;
    for (const [index, child] of node.childNodes.entries()) {
      out.push(`${index === 0 ? '' : '\r\n'}--${boundary}\r\n`);
      if (!templateOf(child, false, out)) return false;
    }
    out.push(`\r\n--${boundary}--\r\n`);
    return true;
  }
  out.push({ body: body! });
  return true;
}

/** The root's header block, field by field: the slot headers as slots, the rest as text. */
function headerSegments(head: string): Segment[] {
  // A field is its first line and the folded lines after it (which start with white space).
  const fields = head.split(/\r\n(?![ \t])/);
  const segments: Segment[] = [];
  for (const [index, field] of fields.entries()) {
    const name = field.slice(0, field.indexOf(':'));
    const separator = index === 0 ? '' : '\r\n';
    if (slotHeaders.has(name.toLowerCase())) {
      if (separator !== '') segments.push(separator);
      segments.push({ header: name });
    } else segments.push(separator + field);
  }
  return segments;
}

/** A header's value as MailComposer hands it to its MimeNode (see `mailComposerOptions`). */
function headerValue(options: ReturnType<typeof mailComposerOptions>, name: string): unknown {
  switch (name.toLowerCase()) {
    case 'to':
      return options.to;
    case 'reply-to':
      return options.replyTo;
    case 'subject':
      return options.subject;
    case 'message-id':
      return options.messageId;
    case 'date':
      return options.date;
    case 'in-reply-to':
      return options.inReplyTo;
    case 'references':
      return options.references;
    default: {
      const headers = (options.headers ?? {}) as Record<string, string>;
      const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
      return key === undefined ? undefined : headers[key];
    }
  }
}

/**
 * The message's bytes from its shape's template: the same headers nodemailer writes, and the
 * bodies base64 in lines of 76 characters (RFC 2045).
 */
export function fillTemplate(
  template: MessageTemplate,
  message: OutgoingMessage,
  encoder: HeaderEncoder,
): Buffer {
  const options = mailComposerOptions(message);
  let out = '';
  for (const segment of template.segments) {
    if (typeof segment === 'string') out += segment;
    else if ('header' in segment) {
      const value = encoder.encodeHeaderValue(
        segment.header,
        headerValue(options, segment.header),
      );
      out += foldLines(`${segment.header}: ${value}`, 76);
    } else {
      const content =
        segment.body === 'text'
          ? (options.text as string)
          : segment.body === 'html'
            ? (options.html as string)
            : message.calendar!.content;
      out += base64Lines(Buffer.from(content.replace(/\r?\n/g, '\r\n'), 'utf8'));
    }
  }
  return Buffer.from(out, 'utf8');
}

/** Base64 in lines of 76 characters, CRLF between them. */
function base64Lines(bytes: Buffer): string {
  const encoded = bytes.toString('base64');
  if (encoded.length <= 76) return encoded;
  let out = encoded.slice(0, 76);
  for (let at = 76; at < encoded.length; at += 76) out += `\r\n${encoded.slice(at, at + 76)}`;
  return out;
}

/**
 * A worker's composer: templates built on first use of each shape and kept for the process
 * (a few shapes a deployment; bounded all the same, oldest out first).
 */
export function splicingComposer(limit = 64): (message: OutgoingMessage) => Promise<Buffer> {
  const templates = new Map<string, MessageTemplate | null>();
  // nodemailer's header encoder, without a message: the slots' values are encoded as a
  // MimeNode of the message would encode them.
  const encoder = new MailComposer({}).compile() as unknown as HeaderEncoder;
  return async (message) => {
    const shape = shapeOf(message);
    let template = templates.get(shape);
    if (template === undefined) {
      template = buildTemplate(message) ?? null;
      if (templates.size >= limit) templates.delete(templates.keys().next().value!);
      templates.set(shape, template);
    }
    if (template === null) return composeMessage(message);
    return fillTemplate(template, message, encoder);
  };
}
