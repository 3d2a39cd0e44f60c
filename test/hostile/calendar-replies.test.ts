import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../helpers/backends.js';
import {
  cohortHeader,
  cohortRow,
  drain,
  inboundRow,
  monday,
  openGym,
  type Gym,
} from './helpers.js';

/**
 * Calendar replies (#16): an RSVP was accepted from anyone who named an invite's UID, and the
 * UIDs could be guessed (`gym-<enrolment>-<step>@domain`). Now new invites carry a signed UID and
 * only the invited attendee's own answer counts; invites sent before keep their UIDs.
 */

const ana = 'ana.lopez@example.gov.uk';
const ben = 'ben.cole@example.gov.uk';
const cohort = [
  cohortHeader,
  cohortRow(ana, 'Ana', 'Lopez'),
  cohortRow(ben, 'Ben', 'Cole'),
  '',
].join('\n');
let counter = 0;

/** An Outlook-style iTIP REPLY for `uid`, sent by `from`, naming `attendee`. */
function rsvp(uid: string, from: string, attendee = from): { raw: Buffer; messageId: string } {
  counter += 1;
  const messageId = `<rsvp-${counter}-${process.pid}@mail.example.test>`;
  const ics = [
    'BEGIN:VCALENDAR',
    'PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN',
    'VERSION:2.0',
    'METHOD:REPLY',
    'BEGIN:VEVENT',
    `ATTENDEE;PARTSTAT=DECLINED:mailto:${attendee}`,
    `UID:${uid}`,
    'SEQUENCE:0',
    'DTSTAMP:20270104T120000Z',
    'END:VEVENT',
    'END:VCALENDAR',
  ].join('\r\n');
  const raw = Buffer.from(
    [
      `From: ${from}`,
      'To: progress@gym.example.gov.uk',
      'Subject: Declined: Digital Gym practice',
      `Message-ID: ${messageId}`,
      'Date: Mon, 04 Jan 2027 12:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/calendar; charset="utf-8"; method=REPLY',
      '',
      ics,
      '',
    ].join('\r\n'),
  );
  return { raw, messageId };
}

describe.each(testBackends())('Calendar replies on $name', (backend) => {
  let gym: Gym;
  let invite: { uid: string; enrolmentId: number; deliveryId: number; stepKey: string };

  beforeAll(async () => {
    gym = await openGym(backend, cohort);
    await drain(gym);
    const row = await gym.database.db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select(['deliveries.id', 'deliveries.invite_uid', 'deliveries.enrolment_id', 'step_key'])
      .where('learners.email', '=', ana)
      .where('deliveries.invite_uid', 'is not', null)
      .orderBy('deliveries.id')
      .executeTakeFirstOrThrow();
    invite = {
      uid: row.invite_uid!,
      enrolmentId: row.enrolment_id,
      deliveryId: row.id,
      stepKey: row.step_key,
    };
  });
  afterAll(async () => {
    await gym?.close();
  });

  const rsvpEvents = async () =>
    (
      await gym.database.db
        .selectFrom('progress_events')
        .select(['inbound_message_id'])
        .where('kind', '=', 'rsvp')
        .execute()
    ).map((e) => e.inbound_message_id);

  it('Calendar replies: a new invite carries a signed UID, and the guessable one answers nothing', async () => {
    const guessable = `gym-${invite.enrolmentId}-${invite.stepKey}@gym.example.gov.uk`;
    expect(invite.uid).toMatch(
      new RegExp(
        `^gym-${invite.enrolmentId}-${invite.stepKey}-[a-z2-7]{16}@gym\\.example\\.gov\\.uk$`,
      ),
    );
    // The invite as sent says the same UID.
    const sent = gym.sent
      .filter((m) => m.to === ana)
      .map((m) => m.raw.toString('utf8').replace(/\r\n[ \t]/g, ''))
      .filter((raw) => raw.includes('METHOD:REQUEST'));
    expect(sent.some((raw) => raw.includes(`UID:${invite.uid}`))).toBe(true);

    const guessed = rsvp(guessable, ana);
    expect(await gym.handle(guessed.raw)).toBe('processed');
    const row = await inboundRow(gym, guessed.messageId);
    expect(row?.status).toBe('parked');
    expect(row!.reason).toContain('an invite we did not send');
    expect(await rsvpEvents()).not.toContain(row!.id);
  });

  it('Calendar replies: an RSVP from anyone but the invited attendee is parked; hers counts', async () => {
    for (const [from, attendee] of [
      ['stranger@elsewhere.example', 'stranger@elsewhere.example'],
      ['stranger@elsewhere.example', ana],
      [ben, ana],
    ] as const) {
      const forged = rsvp(invite.uid, from, attendee);
      expect(await gym.handle(forged.raw)).toBe('processed');
      const row = await inboundRow(gym, forged.messageId);
      expect(row?.status, `${from} as ${attendee}`).toBe('parked');
      expect(row!.reason).toContain(`sent from ${from}`);
      expect(row!.raw).not.toBeNull();
      expect(await rsvpEvents()).not.toContain(row!.id);
    }
    const own = rsvp(invite.uid, ana);
    expect(await gym.handle(own.raw)).toBe('processed');
    const row = await inboundRow(gym, own.messageId);
    expect(row?.status).toBe('processed');
    expect(await rsvpEvents()).toContain(row!.id);
  });

  it('Calendar replies: an invite sent before UIDs were signed keeps its UID: its RSVPs count, its cancellation reuses it', async () => {
    const legacy = `gym-${invite.enrolmentId}-${invite.stepKey}@gym.example.gov.uk`;
    await gym.database.db
      .updateTable('deliveries')
      .set({ invite_uid: legacy })
      .where('id', '=', invite.deliveryId)
      .execute();
    const own = rsvp(legacy, ana);
    expect(await gym.handle(own.raw)).toBe('processed');
    const row = await inboundRow(gym, own.messageId);
    expect(row?.status).toBe('processed');
    expect(await rsvpEvents()).toContain(row!.id);

    // The programme ends: the withdrawal of that slot goes out under the UID the learner has.
    await gym.replies.store.transaction((store) =>
      store.stopEnrolment(invite.enrolmentId, 'a test ends it', monday),
    );
    const before = gym.sent.length;
    await drain(gym);
    const cancels = gym.sent
      .slice(before)
      .map((m) => m.raw.toString('utf8').replace(/\r\n[ \t]/g, ''))
      .filter((raw) => raw.includes('METHOD:CANCEL'));
    expect(cancels.length).toBeGreaterThan(0);
    expect(cancels.some((raw) => raw.includes(`UID:${legacy}`))).toBe(true);
  });
});
