import type { OutgoingMessage } from '../mail/compose.js';
import { templateContext } from '../render/context.js';
import { renderProgrammeEnd, renderWelcome } from '../render/index.js';
import type { Sequence } from '../sequence/schema.js';
import type { DispatchDependencies, DueDelivery, Envelope, Settlement } from './dispatch.js';

/** The plan's rows around the programme's steps (#14 §1): the welcome and the programme end. */
export function isJourneyMail(kind: DueDelivery['kind']): kind is 'welcome' | 'programme_end' {
  return kind === 'welcome' || kind === 'programme_end';
}

/**
 * The welcome or the programme-end email of a claimed row, ready for the dispatcher to send
 * through the same budget, fence and settlement as every step. The welcome says how the twelve
 * weeks go, how to reply, that practice slots come as invites, and who the manager and trainer
 * are; the end gives the learner's own record back (assignments done, reflections quoted) with
 * the closing rating question.
 */
export async function journeyMessage(
  deps: DispatchDependencies,
  delivery: DueDelivery & { readonly kind: 'welcome' | 'programme_end' },
  sequence: Sequence,
  envelope: Envelope,
  now: Date,
): Promise<OutgoingMessage | Settlement> {
  const compiled = await deps.compiled(delivery.versionId, sequence, delivery.language ?? 'en');
  const links = {
    replyAddress: envelope.replyTo,
    unsubscribeUrl: envelope.headers['List-Unsubscribe']?.match(/<(https:[^>]+)>/)?.[1],
  };
  let email;
  if (delivery.kind === 'welcome') {
    const context = templateContext(sequence, 1, delivery.learner, delivery.manager);
    email = renderWelcome(compiled, context, links);
  } else {
    const last = Math.max(...sequence.weeks.map((w) => w.week));
    const context = templateContext(sequence, last, delivery.learner, delivery.manager);
    const done = delivery.doneSteps;
    // Weeks done, as the progress line counts them: one assignment a week.
    const assignmentsDone = new Set([...done].map((k) => k.slice(0, 3))).size;
    const reflections = (await deps.store.reflectionsOf?.(delivery.enrolmentId)) ?? [];
    email = renderProgrammeEnd(compiled, context, { ...links, assignmentsDone }, { reflections });
  }
  return {
    from: deps.mail.from,
    to: envelope.to,
    replyTo: envelope.replyTo,
    subject: email.subject,
    html: email.html,
    text: email.text,
    messageId: envelope.messageId,
    date: now,
    headers: envelope.headers,
  };
}
