/**
 * Rendering for the benchmark, after `test/render/measure.ts` but on a shipped programme: the
 * per-recipient fill of a precompiled email versus running `mjml2html` for each recipient, and
 * what the rest of a message costs in one process (MIME composition, an invite).
 */
import mjml2html from 'mjml';
import { buildInvite, inviteBodies, whenLabel } from '../src/calendar/invite.js';
import { composeMessage } from '../src/mail/compose.js';
import { learnerEmailHeaders } from '../src/mail/headers.js';
import { compileProgramme, renderInvite, renderStep } from '../src/render/index.js';
import { templateContext } from '../src/render/context.js';
import type { Sequence } from '../src/sequence/schema.js';

export interface RenderResult {
  readonly programme: string;
  readonly compileMs: number;
  readonly fillMicros: number;
  readonly fillRuns: number;
  readonly mjmlMicros: number;
  readonly mjmlRuns: number;
  readonly ratio: number;
  readonly composeEmailMicros: number;
  readonly composeInviteMicros: number;
  readonly htmlKiB: number;
  readonly emailKiB: number;
  readonly inviteKiB: number;
}

function perCall(runs: number, work: (i: number) => unknown): number {
  // Warmed up until the optimising compiler has had its go: a fill of tens of microseconds
  // measured over its first few hundred calls is measured mostly unoptimised.
  for (let i = 0; i < Math.min(runs, 2_000); i++) work(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) work(i);
  return Number(process.hrtime.bigint() - start) / 1000 / runs;
}

async function perCallAsync(runs: number, work: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 5; i++) await work(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await work(i);
  return Number(process.hrtime.bigint() - start) / 1000 / runs;
}

const mail = {
  secret: 'bench-secret-of-at-least-32-characters!!',
  from: 'Digital Gym <gym@gym.bench.test>',
  replyAddress: 'progress@gym.bench.test',
  publicUrl: undefined,
};

export async function measureRendering(
  sequence: Sequence,
  recipients: number,
): Promise<RenderResult> {
  const compileStart = performance.now();
  const programme = await compileProgramme(sequence, { validation: 'soft', keepMjml: true });
  const compileMs = performance.now() - compileStart;
  const week = 1;
  const step = programme.weeks.get(week)?.steps.get('kickoff');
  if (step?.kind !== 'email') throw new Error(`${sequence.id}: week 1 has no kickoff email`);
  const learner = (i: number) => ({
    first_name: `Learner${i}`,
    last_name: 'Bench',
    email: `learner${i}@bench.example.gov.uk`,
    role: 'press-officer',
    organisation: 'Cardiff Council',
  });
  const manager = { name: 'Helen Walsh', email: 'helen.walsh@bench.example.gov.uk' };
  const chromeOf = (i: number) => {
    const envelope = learnerEmailHeaders({ ...mail, deliveryId: i + 1, learnerId: i + 1 });
    return { envelope, chrome: { replyAddress: envelope.replyTo, assignmentsDone: 0 } };
  };
  const fill = (i: number) =>
    renderStep(
      programme,
      week,
      'kickoff',
      templateContext(sequence, week, learner(i), manager),
      chromeOf(i).chrome,
    );

  // Enough calls to last about as long as the mjml2html runs below (a second or so): a
  // measurement of a tenth of a second on a shared machine is mostly noise.
  const fillRuns = Math.max(20_000, recipients * 10);
  const fillMicros = perCall(fillRuns, fill);
  const mjmlMicros = await perCallAsync(recipients, (i) =>
    mjml2html(step.email.mjml.replace(/\{\{\s*learner\.first_name\s*\}\}/g, `Learner${i}`), {
      validationLevel: 'soft',
      fonts: {},
      keepComments: false,
    }),
  );

  const date = new Date('2027-01-04T17:00:00Z');
  const emailOf = (i: number) => {
    const { envelope } = chromeOf(i);
    const email = fill(i);
    return composeMessage({
      from: mail.from,
      to: { name: `Learner${i} Bench`, email: learner(i).email },
      replyTo: envelope.replyTo,
      subject: email.subject,
      html: email.html,
      text: email.text,
      messageId: envelope.messageId,
      date,
      headers: envelope.headers,
    });
  };
  const practice = programme.weeks.get(week)?.steps.get('practice');
  const inviteOf = (i: number) => {
    const { envelope } = chromeOf(i);
    const invite = renderInvite(
      programme,
      week,
      practice?.kind === 'invite' ? 'practice' : 'kickoff',
      templateContext(sequence, week, learner(i), manager),
    );
    const start = new Date('2027-01-06T14:00:00Z');
    const to = { name: `Learner${i} Bench`, email: learner(i).email };
    const ics = buildInvite({
      uid: `gym-${i}-w01-practice@gym.bench.test`,
      sequence: 0,
      start,
      durationMinutes: 30,
      title: invite.title,
      description: invite.description,
      location: invite.location,
      organizer: { name: 'Digital Gym', email: mail.replyAddress },
      attendee: to,
      stamp: date,
      method: 'REQUEST',
    });
    return composeMessage({
      from: mail.from,
      to,
      replyTo: envelope.replyTo,
      subject: `Invitation: ${invite.title}`,
      ...inviteBodies({
        title: `Invitation: ${invite.title}`,
        when: whenLabel(start, 'Europe/London'),
        durationMinutes: 30,
        location: invite.location,
        description: invite.description,
      }),
      messageId: envelope.messageId,
      date,
      headers: envelope.headers,
      calendar: { method: 'REQUEST', content: ics },
    });
  };
  const composeRuns = Math.max(500, recipients * 2);
  const composeEmailMicros = await perCallAsync(composeRuns, emailOf);
  const composeInviteMicros =
    practice?.kind === 'invite' ? await perCallAsync(composeRuns, inviteOf) : Number.NaN;

  return {
    programme: sequence.id,
    compileMs,
    fillMicros,
    fillRuns,
    mjmlMicros,
    mjmlRuns: recipients,
    ratio: mjmlMicros / fillMicros,
    composeEmailMicros,
    composeInviteMicros,
    htmlKiB: Buffer.byteLength(fill(0).html) / 1024,
    emailKiB: (await emailOf(0)).length / 1024,
    inviteKiB: practice?.kind === 'invite' ? (await inviteOf(0)).length / 1024 : Number.NaN,
  };
}
