import MailComposer from 'nodemailer/lib/mail-composer';

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

/**
 * The message as RFC 5322 bytes (what an `.eml` file holds and what SMTP sends). Automatic mail
 * says so (`Auto-Submitted: auto-generated`, RFC 3834) and asks Exchange not to answer it with
 * out-of-office replies.
 */
export async function composeMessage(message: OutgoingMessage): Promise<Buffer> {
  const composer = new MailComposer({
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
  });
  return composer.compile().build();
}
