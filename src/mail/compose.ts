import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer';

export interface Mailbox {
  readonly name: string;
  readonly email: string;
}

/** Everything one outgoing message is made of; composition is separate from transport. */
export interface OutgoingMessage {
  readonly from: string;
  readonly to: Mailbox;
  readonly replyTo: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string | undefined;
  /** `<id@domain>`: identifies the delivery, so a reply's In-Reply-To leads back to it. */
  readonly messageId: string;
  readonly date: Date;
  /** An iCalendar invite; its METHOD is put on the MIME part as well (iMIP, RFC 6047). */
  readonly calendar?:
    { readonly method: 'REQUEST' | 'CANCEL'; readonly content: string } | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** For an answer (an acknowledgement): the message answered and its thread, `<...>` each. */
  readonly inReplyTo?: string | undefined;
  readonly references?: readonly string[] | undefined;
}

// Names and subjects come from learners' profiles and trainers' files: a CR or LF in them must
// never start a new header line. Other control characters and the Unicode line separators go too:
// some mail clients and parsers break lines on them.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const lineBreaking = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
const oneLine = (value: string) => value.replace(lineBreaking, ' ').trim();
// A lone CR is no line end in a message; make it one, so the CRLF output below has only CRLFs.
const lineEnds = (value: string) => value.replace(/\r\n?/g, '\n');

/** What nodemailer's MailComposer is given for a message: one mapping for both writers below. */
export function mailComposerOptions(message: OutgoingMessage): Mail.Options {
  return {
    // CRLF everywhere, as RFC 5322 wants: the bytes of an .eml file, of a DKIM signature and of
    // an SMTP DATA are then the same (nodemailer otherwise keeps a text's bare LFs as they are).
    newline: 'windows',
    from: message.from,
    to: { name: oneLine(message.to.name), address: oneLine(message.to.email) },
    replyTo: message.replyTo,
    subject: oneLine(message.subject),
    text: lineEnds(message.text),
    ...(message.html === undefined ? {} : { html: lineEnds(message.html) }),
    messageId: message.messageId,
    date: message.date,
    ...(message.inReplyTo === undefined ? {} : { inReplyTo: message.inReplyTo }),
    ...(message.references === undefined || message.references.length === 0
      ? {}
      : { references: [...message.references] }),
    ...(message.calendar === undefined
      ? {}
      : {
          icalEvent: {
            method: message.calendar.method,
            content: message.calendar.content,
            filename: 'invite.ics',
          },
        }),
    headers: {
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'OOF, AutoReply',
      ...message.headers,
    },
  };
}

/**
 * The message as RFC 5322 bytes (what an `.eml` file holds and what SMTP sends). Automatic mail
 * says so (`Auto-Submitted: auto-generated`, RFC 3834) and asks Exchange not to answer it with
 * out-of-office replies.
 *
 * nodemailer decides the structure and writes every header (addresses, encoded words, folding,
 * boundaries); the bodies are written here, in one pass: base64 by Node's native encoder where
 * nodemailer would stream quoted-printable through JavaScript transforms. That was most of a
 * worker's CPU per message (#17): a 35 KiB email took ~3 ms to compose, now ~0.4 ms. The parts,
 * once decoded, are the same as nodemailer's own output (test/mail/compose.test.ts proves it for
 * every step of every shipped programme).
 */
export async function composeMessage(message: OutgoingMessage): Promise<Buffer> {
  const root = new MailComposer(mailComposerOptions(message)).compile();
  return Buffer.from(writeNode(root as unknown as MimeTree), 'utf8');
}

/** What `writeNode` uses of nodemailer's MimeNode (lib/mime-node), a tree built by `compile()`. */
interface MimeTree {
  readonly multipart: string | false | undefined;
  readonly boundary: string | false;
  readonly childNodes: readonly MimeTree[];
  readonly content?: string | Buffer | undefined;
  getTransferEncoding(): string | false;
  setHeader(key: string, value: string): void;
  buildHeaders(): string;
}

function writeNode(node: MimeTree): string {
  // Quoted-printable is nodemailer's choice for text with non-ASCII letters or long lines; base64
  // says the same and costs one native call. Plain short ASCII stays as it is (7bit).
  const encoding = node.getTransferEncoding();
  if (encoding === 'quoted-printable') node.setHeader('Content-Transfer-Encoding', 'base64');
  // (Building the headers is also where nodemailer settles the multipart type and boundary.)
  const head = node.buildHeaders();
  if (node.multipart) {
    const boundary = node.boundary as string;
    const parts = node.childNodes.map((child) => `--${boundary}\r\n${writeNode(child)}`);
    return `${head}\r\n\r\n${parts.join('\r\n')}\r\n--${boundary}--\r\n`;
  }
  const content = node.content ?? '';
  if (encoding === false) return `${head}\r\n\r\n`;
  if (encoding !== 'quoted-printable' && encoding !== 'base64')
    return `${head}\r\n\r\n${crlf(content.toString())}`;
  // Text in its canonical form (CRLF line ends) before encoding, as nodemailer's output decodes.
  const bytes =
    typeof content === 'string' ? Buffer.from(crlf(content), 'utf8') : Buffer.from(content);
  return `${head}\r\n\r\n${base64Lines(bytes)}`;
}

const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

/** Base64 in lines of 76 characters (RFC 2045), CRLF between them. */
function base64Lines(bytes: Buffer): string {
  const encoded = bytes.toString('base64');
  const lines: string[] = [];
  for (let at = 0; at < encoded.length; at += 76) lines.push(encoded.slice(at, at + 76));
  return lines.join('\r\n');
}
