/**
 * A worker's CPU per message in the dispatcher's prepare step (#17), before and after splicing:
 * render (the Liquid fill), the learner's headers, the invite's ICS and the composition, for
 * every step of a shipped programme, in rotation over a few learners. Database and SMTP are left
 * out: they are the same either way. Not a test (timings drift between machines); run it by hand:
 *
 *   npm run measure:compose
 */
/* eslint-disable no-console -- a measurement script: printing the numbers is its job */
import { fileURLToPath } from 'node:url';
import { buildInvite, inviteBodies, whenLabel } from '../../src/calendar/invite.js';
import { writeInvite } from '../../src/calendar/invite-template.js';
import { composeMessage, type OutgoingMessage } from '../../src/mail/compose.js';
import { learnerEmailHeaders } from '../../src/mail/headers.js';
import { splicingComposer } from '../../src/mail/splice.js';
import { durationMinutes } from '../../src/planner/index.js';
import { templateContext } from '../../src/render/context.js';
import { compileProgramme, renderInvite, renderStep } from '../../src/render/index.js';
import { loadSequenceFiles } from '../../src/sequence/load-files.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const sequence = loadSequenceFiles(['sequences/digital-foundations.yaml'], root).flatMap((r) =>
  r.ok ? [r.sequence] : [],
)[0]!;
const compiled = await compileProgramme(sequence, { validation: 'soft', language: 'en' });
const mail = {
  secret: 'a-test-secret-of-at-least-32-characters!',
  from: 'Digital Gym <gym@gym.example.gov.uk>',
  replyAddress: 'progress@gym.example.gov.uk',
  publicUrl: 'https://gym.example.gov.uk',
};
const now = new Date('2027-01-04T09:00:00Z');
const steps = sequence.weeks.flatMap((w) => w.steps.map((s) => ({ week: w.week, step: s })));

type Way = {
  compose: (m: OutgoingMessage) => Promise<Buffer>;
  ics: typeof buildInvite;
};

/** One message as the dispatcher prepares it: rendered, addressed, composed. */
async function prepare(way: Way, i: number, kind: 'email' | 'invite'): Promise<number> {
  const pool = steps.filter((s) => (kind === 'email' ? s.step.email : s.step.invite));
  const { week, step } = pool[i % pool.length]!;
  const learner = {
    id: i,
    first_name: i % 2 === 0 ? 'Zoë' : 'Sam',
    last_name: `Learner${i}`,
    email: `learner${i}@example.gov.uk`,
    role: null,
    organisation: null,
    time_zone: 'Europe/London',
  };
  const context = templateContext(sequence, week, learner, undefined);
  const envelope = learnerEmailHeaders({ ...mail, deliveryId: i + 1, learnerId: i });
  const to = { name: `${learner.first_name} ${learner.last_name}`, email: learner.email };
  const base = {
    from: mail.from,
    to,
    replyTo: envelope.replyTo,
    messageId: envelope.messageId,
    date: now,
    headers: envelope.headers,
  };
  if (kind === 'email') {
    const email = renderStep(compiled, week, step.id, context, {
      replyAddress: envelope.replyTo,
      unsubscribeUrl: 'https://gym.example.gov.uk/unsubscribe/x',
      assignmentsDone: 2,
    });
    return (
      await way.compose({ ...base, subject: email.subject, html: email.html, text: email.text })
    ).length;
  }
  const invite = renderInvite(compiled, week, step.id, context);
  const start = new Date(now.getTime() + week * 7 * 86_400_000);
  const minutes = durationMinutes(step.invite!.duration);
  const subject = `Invitation: ${invite.title}`;
  const ics = way.ics({
    uid: `gym-${i}-${step.id}@gym.example.gov.uk`,
    sequence: 0,
    start,
    durationMinutes: minutes,
    title: invite.title,
    description: invite.description,
    location: invite.location,
    organizer: { name: 'Digital Gym', email: mail.replyAddress },
    attendee: to,
    stamp: now,
  });
  const bodies = inviteBodies({
    title: subject,
    when: whenLabel(start, learner.time_zone),
    durationMinutes: minutes,
    location: invite.location,
    description: invite.description,
  });
  return (
    await way.compose({
      ...base,
      subject,
      ...bodies,
      calendar: { method: 'REQUEST', content: ics },
    })
  ).length;
}

async function measure(label: string, way: Way, kind: 'email' | 'invite', runs: number) {
  let bytes = 0;
  for (let i = 0; i < 300; i++) bytes += await prepare(way, i, kind); // warm up
  bytes = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) bytes += await prepare(way, i, kind);
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000 / runs;
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6 / runs;
  console.log(
    `${label.padEnd(40)} ${cpuMs.toFixed(3).padStart(7)} ms CPU  ${wallMs.toFixed(3).padStart(7)} ms wall  ${(bytes / runs / 1024).toFixed(1)} KiB  (${runs} runs)`,
  );
  return cpuMs;
}

const today: Way = { compose: composeMessage, ics: buildInvite };
const spliced: Way = { compose: splicingComposer(), ics: writeInvite };
const runs = Number(process.env.RUNS ?? 3000);
const results: Record<string, number> = {};
// Alternated, so that a noisy neighbour on the machine hurts both alike.
for (const round of [1, 2]) {
  for (const kind of ['email', 'invite'] as const) {
    results[`today ${kind} ${round}`] = await measure(
      `today:   ${kind} (render+ICS+compose)`,
      today,
      kind,
      runs,
    );
    results[`spliced ${kind} ${round}`] = await measure(
      `spliced: ${kind} (render+ICS+splice)`,
      spliced,
      kind,
      runs,
    );
  }
}
for (const kind of ['email', 'invite']) {
  const best = (way: string) =>
    Math.min(results[`${way} ${kind} 1`]!, results[`${way} ${kind} 2`]!);
  console.log(
    `${kind}: ${best('today').toFixed(3)} → ${best('spliced').toFixed(3)} ms CPU a message (${(best('today') / best('spliced')).toFixed(1)}× less)`,
  );
}
