import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { replyStore } from '../../src/db/reply-store.js';
import { liftSuppressions } from '../../src/db/suppression-store.js';
import type { DispatchDependencies } from '../../src/engine/dispatch.js';
import { drainDue } from '../../src/engine/dispatcher-loop.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { handleInbound } from '../../src/engine/replies.js';
import { readMessage } from '../../src/replies/read.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { programmeCache } from '../../src/render/index.js';
import { exampleCohort, shippedProgrammes, testMail } from '../helpers/cohort.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { answered, type Answered } from '../inbound/reply-builder.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers.js';

/**
 * Issue #16, "a forged bounce stops a learner": a delivery report acts only when it quotes a
 * Message-ID we signed for a message we sent to the address it says failed.
 */

let dsnCounter = 0;

/** A DSN (RFC 3464) saying `recipient` failed with `status`, quoting `messageId` if given. */
function dsn(recipient: string, status: string, messageId: string | undefined): Buffer {
  dsnCounter += 1;
  const boundary = 'dsn-boundary';
  return Buffer.from(
    [
      'From: MAILER-DAEMON@mx.example.test (Mail Delivery System)',
      'To: progress@gym.example.gov.uk',
      'Subject: Undelivered Mail Returned to Sender',
      `Message-ID: <bounce-${dsnCounter}@mx.example.test>`,
      'Date: Tue, 05 Jan 2027 12:00:00 +0000',
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain',
      '',
      'I could not deliver your message.',
      `--${boundary}`,
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.test',
      '',
      `Final-Recipient: rfc822; ${recipient}`,
      'Action: failed',
      `Status: ${status}`,
      `Diagnostic-Code: smtp; ${status.startsWith('5') ? '550' : '452'} ${status} no`,
      '',
      `--${boundary}`,
      'Content-Type: text/rfc822-headers',
      '',
      ...(messageId === undefined ? [] : [`Message-ID: ${messageId}`]),
      `To: ${recipient}`,
      'Subject: Week 1',
      '',
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
}

describe.each(testBackends())('bounces on $name', (backend) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let worker: DispatchDependencies;
  const now = new Date('2027-01-05T12:00:00Z');

  const received = async (email: string): Promise<Answered[]> => {
    const out: Answered[] = [];
    for (const message of smtp.received)
      if (message.to.includes(email)) out.push(await answered(message.data));
    return out;
  };
  const handle = (raw: Buffer) =>
    handleInbound(
      {
        store: replyStore(database.db),
        read: readMessage,
        secret: testMail.secret,
        replyAddress: testMail.replyAddress,
        now: () => now,
      },
      { raw, mailbox: 'INBOX', uid: undefined },
    );
  const stateOf = async (email: string) => {
    const learner = await database.db
      .selectFrom('learners')
      .select('status')
      .where('email', '=', email)
      .executeTakeFirstOrThrow();
    const suppressions = await database.db
      .selectFrom('suppressions')
      .select('how')
      .where('address', '=', email)
      .where('lifted_at', 'is', null)
      .execute();
    return { status: learner.status, suppressed: suppressions.map((s) => s.how) };
  };
  const lastInbound = () =>
    database.db
      .selectFrom('inbound_messages')
      .select(['status', 'reason'])
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();

  beforeAll(async () => {
    database = await openMigrated(backend);
    smtp = await startSmtpServer();
    worker = {
      store: dispatchStore(database.db),
      transport: createSmtpTransport({ url: smtp.url }),
      mail: testMail,
      workerId: 'worker-a',
      retryDelay: () => 60_000,
      compiled: programmeCache({ validation: 'soft' }),
    };
    await enrolCohort(enrolmentStore(database.db), exampleCohort.rows, shippedProgrammes, {
      dryRun: false,
      holidays: new Set(),
    });
    await drainDue(worker, () => new Date('2027-01-04T12:00:00Z'));
  });
  afterAll(async () => {
    await worker?.transport.close();
    await smtp?.close();
    await database?.close();
  });

  it('parks a forged bounce and changes nothing: no Message-ID, a forged one, or another address', async () => {
    const priya = 'priya.sharma@fcdo.gov.uk';
    const [siobhans] = await received('siobhan.obrien@fcdo.gov.uk');
    const forgeries = [
      dsn(priya, '5.1.1', undefined),
      // Our Message-ID's shape, with a MAC the forger had to guess.
      dsn(priya, '5.1.1', '<d1.aaaaaaaaaaaaa@gym.example.gov.uk>'),
      // A genuine Message-ID (Siobhán forwarded her email), but Priya's address.
      dsn(priya, '5.1.1', siobhans!.messageId),
    ];
    for (const forged of forgeries) {
      expect(await handle(forged)).toBe('processed');
      const held = await lastInbound();
      expect(held.status).toBe('parked');
      expect(held.reason).toMatch(
        /^an unverified bounce.*nothing was changed; look at it with gym inbox$/,
      );
    }
    expect(await stateOf(priya)).toEqual({ status: 'active', suppressed: [] });
    expect(await stateOf('siobhan.obrien@fcdo.gov.uk')).toEqual({
      status: 'active',
      suppressed: [],
    });
    // Her week goes on.
    const before = (await received(priya)).length;
    await drainDue(worker, () => new Date('2027-01-07T12:00:00Z'));
    expect((await received(priya)).length).toBeGreaterThan(before);
  });

  it('counts a verified soft bounce and keeps sending', async () => {
    const aisha = 'aisha.khan@businessandtrade.gov.uk';
    const [first] = await received(aisha);
    await handle(dsn(aisha, '4.2.2', first!.messageId));
    expect(await lastInbound()).toMatchObject({
      status: 'processed',
      reason: expect.stringMatching(
        /^soft bounce 4\.2\.2 .*\(1 for this address; mail goes on\)$/,
      ) as unknown,
    });
    await handle(dsn(aisha, '4.2.2', first!.messageId));
    expect((await lastInbound()).reason).toMatch(/\(2 for this address; mail goes on\)$/);
    expect(await stateOf(aisha)).toEqual({ status: 'active', suppressed: [] });
  });

  it('stops all mail on a verified hard bounce, until resubscribe restores the address', async () => {
    const gareth = 'gareth.jones@cardiff.gov.uk';
    const [first] = await received(gareth);
    await handle(dsn(gareth, '5.1.1', first!.messageId));
    expect(await lastInbound()).toMatchObject({ status: 'processed' });
    expect(await stateOf(gareth)).toEqual({ status: 'bounced', suppressed: ['hard_bounce'] });
    const before = (await received(gareth)).length;
    await drainDue(worker, () => new Date('2027-01-08T12:00:00Z'));
    expect((await received(gareth)).length).toBe(before);

    await liftSuppressions(database.db, {
      address: gareth,
      by: 'trainer',
      reason: 'mailbox restored',
      now: new Date('2027-01-09T12:00:00Z'),
    });
    expect(await stateOf(gareth)).toEqual({ status: 'active', suppressed: [] });
  });
});
