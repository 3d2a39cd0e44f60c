import { simpleParser, type AddressObject } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';

/** What a learner's mail client needs from the message it answers. */
export interface Answered {
  readonly messageId: string;
  readonly subject: string;
  /** The Reply-To address (our plus-address with the signed token). */
  readonly replyTo: string;
  /** The learner it was sent to. */
  readonly to: string;
  readonly text: string;
}

const firstAddress = (value: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(value) ? value[0] : value)?.value[0]?.address ?? '';

export async function answered(raw: Buffer): Promise<Answered> {
  const mail = await simpleParser(raw);
  return {
    messageId: mail.messageId ?? '',
    subject: mail.subject ?? '',
    replyTo: firstAddress(mail.replyTo),
    to: firstAddress(mail.to),
    text: mail.text ?? '',
  };
}

let counter = 0;

/**
 * A reply as Gmail writes one: the learner's words, then "On ... wrote:" and the quoted
 * message. `to` and `from` default to what a real reply has (our Reply-To, the learner).
 */
export async function replyTo(
  message: Answered,
  body: string,
  options: {
    from?: string;
    to?: string;
    date?: Date;
    messageId?: string;
    headers?: Record<string, string>;
    subject?: string;
    thread?: boolean;
  } = {},
): Promise<Buffer> {
  counter += 1;
  const quoted = message.text
    .split('\n')
    .slice(0, 20)
    .map((line) => `> ${line}`)
    .join('\n');
  const thread = options.thread ?? true;
  const composer = new MailComposer({
    newline: 'windows',
    from: options.from ?? message.to,
    to: options.to ?? message.replyTo,
    subject: options.subject ?? `Re: ${message.subject}`,
    messageId: options.messageId ?? `<reply-${counter}-${Date.now()}@mail.example.test>`,
    date: options.date ?? new Date(),
    ...(thread ? { inReplyTo: message.messageId, references: [message.messageId] } : {}),
    text: `${body}\n\nOn Mon, 4 Jan 2027 at 09:00, Digital Gym <gym@gym.example.gov.uk> wrote:\n${quoted}\n`,
    headers: options.headers ?? {},
  });
  return composer.compile().build();
}
