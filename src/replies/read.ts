import { classify } from './classify.js';
import { readIntent } from './intent.js';
import { parseMail } from './parse-mail.js';
import type { ReadMessage } from './types.js';
import { visibleText } from './visible-text.js';

/**
 * Everything the reply reader makes of one message, with no database: its envelope, what kind
 * of message it is (decided from headers and structure first, so a robot's words are never read
 * as a learner's), and for a human reply, the learner's own words and what they ask for.
 * Dates without a year ("pause until 3 Jan") are read relative to the message's Date, in
 * `timeZone` (the learner's, when known). Throws only for a message too large or too broken to
 * parse; the caller parks it.
 */
export async function readMessage(
  raw: Buffer | Uint8Array,
  options: { timeZone?: string | undefined; now?: Date | undefined } = {},
): Promise<ReadMessage> {
  // PGlite hands stored bytes back as a Uint8Array; the parser wants a Buffer (a stream source).
  const mail = await parseMail(Buffer.isBuffer(raw) ? raw : Buffer.from(raw));
  const { kind, evidence, bounce, rsvp } = classify(mail);
  const envelope = {
    messageId: mail.messageId,
    date: mail.date,
    from: mail.from,
    fromName: mail.fromName,
    subject: mail.subject,
    recipients: mail.recipients,
    threadIds: mail.threadIds,
  };
  if (kind !== 'reply') {
    return {
      ...envelope,
      kind,
      evidence,
      text: '',
      intent: undefined,
      confidence: undefined,
      language: undefined,
      bounce,
      rsvp,
    };
  }
  const text = visibleText({ text: mail.text, html: mail.html });
  const { intent, confidence, language } = readIntent(text, {
    sentAt: mail.date ?? options.now ?? new Date(),
    timeZone: options.timeZone,
  });
  return {
    ...envelope,
    kind,
    evidence,
    text,
    intent,
    confidence,
    language,
    bounce: undefined,
    rsvp: undefined,
  };
}
