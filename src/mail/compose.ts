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
}

// Names and subjects come from learners' profiles and trainers' files: a CR or LF in them must
// never start a new header line.
const oneLine = (value: string) => value.replace(/[\r\n]+/g, ' ').trim();

/**
 * The message as RFC 5322 bytes (what an `.eml` file holds and what SMTP sends). Automatic mail
 * says so (`Auto-Submitted: auto-generated`, RFC 3834) and asks Exchange not to answer it with
 * out-of-office replies.
 */
export async function composeMessage(message: OutgoingMessage): Promise<Buffer> {
  const composer = new MailComposer({
    from: message.from,
    to: { name: oneLine(message.to.name), address: message.to.email },
    replyTo: message.replyTo,
    subject: oneLine(message.subject),
    text: message.text,
    ...(message.html === undefined ? {} : { html: message.html }),
    messageId: message.messageId,
    date: message.date,
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
