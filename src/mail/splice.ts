import MailComposer from 'nodemailer/lib/mail-composer';
import { foldLines, hasLongerLines, isPlainText } from 'nodemailer/lib/mime-funcs';
import { composeMessage, mailComposerOptions, type OutgoingMessage } from './compose.js';

/**
 * Composition by splicing (#17): the MIME of a message is built once per shape with nodemailer
 * (headers, their order and encoding, the structure, the boundaries), and each recipient's
 * message is that template with their own values put in its slots: To, Reply-To, Subject,
 * Message-ID, Date, List-Unsubscribe, In-Reply-To, References, and the bodies (text, HTML, the
 * invite's ICS), base64 by Node's native encoder. No MimeNode tree is built per recipient.
 *
 * Every header slot is written by nodemailer's own header encoder and folder (`encodeHeaderValue`,
 * `foldLines`), and each body gets the transfer encoding `composeMessage` gives it (7bit for
 * short-lined ASCII text, else base64): a spliced message is byte for byte `composeMessage`'s,
 * but for the boundary strings (test/mail/splice.test.ts proves it for every message of every
 * shipped programme, and that mailparser and ical.js read the two alike).
 *
 * What is static comes from the template's key (the sender, the headers that are not slots and
 * their values, which parts there are): a wave is a handful of shapes, whatever its steps, so
 * the key is the shape rather than the (programme version, step, layout, language) a message
 * comes from. The bodies are all per recipient: every one carries the learner's name or tokens.
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
type Segment =
  string | { readonly header: string } | { readonly body: BodySlot; readonly text: boolean };

/** A message shape's MIME, as static text and the slots a recipient's message fills. */
export interface MessageTemplate {
  readonly segments: readonly Segment[];
  /** The shape's root MimeNode: it encodes each recipient's header values as it encoded its own. */
  readonly encoder: HeaderEncoder;
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
  return { segments: merged, encoder: root };
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
  if (multipart) {
    const head = node.buildHeaders();
    if (isRoot) out.push(...headerSegments(head));
    else out.push(head);
    const boundary = node.boundary as string;
    out.push('\r\n\r\n');
    for (const [index, child] of node.childNodes.entries()) {
      out.push(`${index === 0 ? '' : '\r\n'}--${boundary}\r\n`);
      if (!templateOf(child, false, out)) return false;
    }
    out.push(`\r\n--${boundary}--\r\n`);
    return true;
  }
  // A body is the last thing of its part, after its Content-Transfer-Encoding (nodemailer puts it
  // last in a part's headers, not in the root's): anything else is composed whole.
  if (body === undefined || isRoot) return false;
  node.setHeader('Content-Transfer-Encoding', 'base64');
  const head = node.buildHeaders();
  const encoding = '\r\nContent-Transfer-Encoding: base64';
  if (!head.endsWith(encoding)) return false;
  out.push(head.slice(0, -encoding.length));
  // Text as nodemailer sends it: as it is (7bit) when it is short-lined ASCII, else base64 where
  // nodemailer would write quoted-printable (see `composeMessage`). Other types: base64 always.
  out.push({ body, text: type.startsWith('text/') });
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
export function fillTemplate(template: MessageTemplate, message: OutgoingMessage): Buffer {
  const encoder = template.encoder;
  const options = mailComposerOptions(message);
  let out = '';
  for (const segment of template.segments) {
    if (typeof segment === 'string') out += segment;
    else if ('header' in segment) {
      const value = encoder.encodeHeaderValue(segment.header, headerValue(options, segment.header));
      out += foldLines(`${segment.header}: ${value}`, 76);
    } else {
      const content =
        segment.body === 'text'
          ? (options.text as string)
          : segment.body === 'html'
            ? (options.html as string)
            : message.calendar!.content;
      // Canonical line ends (CRLF) before encoding, as nodemailer's output decodes.
      const canonical = content.replace(/\r?\n/g, '\r\n');
      out +=
        segment.text && isPlainText(content) && !hasLongerLines(content, 76)
          ? `\r\nContent-Transfer-Encoding: 7bit\r\n\r\n${canonical}`
          : `\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(Buffer.from(canonical, 'utf8'))}`;
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
  return async (message) => {
    const shape = shapeOf(message);
    let template = templates.get(shape);
    if (template === undefined) {
      template = buildTemplate(message) ?? null;
      if (templates.size >= limit) templates.delete(templates.keys().next().value!);
      templates.set(shape, template);
    }
    if (template === null) return composeMessage(message);
    return fillTemplate(template, message);
  };
}
