import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestStore } from '../../src/db/digest-store.js';
import { dispatchStore } from '../../src/db/dispatch-store.js';
import { enrolmentStore } from '../../src/db/enrolment-store.js';
import { suppressByHand } from '../../src/db/opt-out.js';
import { replyStore } from '../../src/db/reply-store.js';
import { suppress } from '../../src/db/suppression-store.js';
import { gymServerStore } from '../../src/db/unsubscribe-store.js';
import { digestTick } from '../../src/engine/digests.js';
import type { DispatchDependencies } from '../../src/engine/dispatch.js';
import { drainDue } from '../../src/engine/dispatcher-loop.js';
import { enrolCohort } from '../../src/engine/enrol.js';
import { handleInbound } from '../../src/engine/replies.js';
import { startGymServer, type GymServer } from '../../src/http/gym-server.js';
import { readMessage } from '../../src/replies/read.js';
import { taggedTokenFromAddress, verifyDigestReplyToken } from '../../src/mail/tokens.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import { programmeCache } from '../../src/render/index.js';
import { computeReport } from '../../src/report/compute.js';
import { readReportData } from '../../src/report/snapshot.js';
import { exampleCohort, repositoryRoot, shippedProgrammes, testMail } from '../helpers/cohort.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';
import { answered, replyTo, type Answered } from '../inbound/reply-builder.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers.js';

/**
 * Issue #11: an opt-out is permanent until the person lifts it. Each way of saying no, by one
 * learner of the example cohort each, then the same cohort imported again (as the README says is
 * safe) and three more weeks of the clock: nothing more reaches anyone who said no, and a
 * manager's unsubscribe from the digests stops their digests while their people's mail goes on.
 */

// An https public URL, so that mail carries the one-click (RFC 8058) link.
const mail = { ...testMail, publicUrl: 'https://gym.example.gov.uk' };
const hour = 60 * 60 * 1000;

const who = {
  oneClick: 'priya.sharma@fcdo.gov.uk',
  confirmPage: 'tom.fletcher@fcdo.gov.uk',
  mailto: 'siobhan.obrien@fcdo.gov.uk',
  stopReply: 'aisha.khan@businessandtrade.gov.uk',
  unsubscribeReply: 'daniel.evans@businessandtrade.gov.uk',
  byHand: 'james.okafor@businessandtrade.gov.uk',
  hardBounce: 'gareth.jones@cardiff.gov.uk',
  // Says no to nothing; her manager Mark unsubscribes from the digests.
  carriesOn: 'fiona.campbell@cardiff.gov.uk',
  manager: 'mark.davies@cardiff.gov.uk',
  managerByMail: 'helen.walsh@fcdo.gov.uk',
} as const;
const saidNo = [
  who.oneClick,
  who.confirmPage,
  who.mailto,
  who.stopReply,
  who.unsubscribeReply,
  who.byHand,
  who.hardBounce,
];

/** A Postfix DSN (5.1.1, user unknown) for a message we sent to `to` with `messageId`. */
function hardBounceOf(to: string, messageId: string): Buffer {
  const fixture = readFileSync(
    `${repositoryRoot}/test/fixtures/replies/bounce-postfix-5.1.1.eml`,
    'latin1',
  );
  return Buffer.from(
    fixture
      .replaceAll('J.Smith@example.com', to)
      .replace('<d328.pzkmlsvfyytz6@gym.example.test>', messageId)
      .replace('<20261220090004.9F4A01C0035@mail.gym.example.test>', `<dsn-${to}>`),
    'latin1',
  );
}

describe.each(testBackends())('an opt-out survives a re-import on $name', (backend) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let server: GymServer;
  let worker: DispatchDependencies;
  let clock = new Date('2027-01-03T00:00:00Z');

  const received = async (email: string): Promise<Answered[]> => {
    const out: Answered[] = [];
    for (const message of smtp.received)
      if (message.to.includes(email)) out.push(await answered(message.data));
    return out;
  };
  const headerOf = (email: string, name: string): string => {
    // The first message to them that is not a manager's introduction (#14): for a manager, the
    // digest; for a learner, their welcome or first step.
    const message = smtp.received.find(
      (m) => m.to.includes(email) && !m.data.includes('Subject: Your team is starting'),
    );
    const head = message!.data
      .toString('latin1')
      .split('\r\n\r\n')[0]!
      .replace(/\r\n\s+/g, ' ');
    return new RegExp(`^${name}: (.*)$`, 'im').exec(head)?.[1] ?? '';
  };
  const inbound = (raw: Buffer) =>
    handleInbound(
      {
        store: replyStore(database.db),
        read: readMessage,
        secret: mail.secret,
        replyAddress: mail.replyAddress,
        now: () => clock,
      },
      { raw, mailbox: 'INBOX', uid: undefined },
    );
  const runUntil = async (to: Date) => {
    for (; clock.getTime() <= to.getTime(); clock = new Date(clock.getTime() + 3 * hour)) {
      await drainDue(worker, () => clock);
      await digestTick(worker, worker.digests!, clock);
    }
  };

  beforeAll(async () => {
    database = await openMigrated(backend);
    smtp = await startSmtpServer();
    worker = {
      store: dispatchStore(database.db),
      transport: createSmtpTransport({ url: smtp.url }),
      mail,
      workerId: 'worker-a',
      retryDelay: () => 60_000,
      compiled: programmeCache({ validation: 'soft' }),
      digests: digestStore(database.db),
    };
    server = await startGymServer({
      store: gymServerStore(database.db),
      secret: mail.secret,
      host: '127.0.0.1',
      port: 0,
      now: () => clock,
      log: { info: () => {}, error: () => {} },
    });
    await enrolCohort(enrolmentStore(database.db), exampleCohort.rows, shippedProgrammes, {
      dryRun: false,
      holidays: new Set(),
    });
  });
  afterAll(async () => {
    await worker?.transport.close();
    await server?.close();
    await smtp?.close();
    await database?.close();
  });

  it('sends nothing more to anyone who said no, by any path, after the cohort is imported again', async () => {
    // Week 1 goes out to those who start on 4 January, and the first digests.
    await runUntil(new Date('2027-01-05T12:00:00Z'));
    for (const email of [...saidNo.filter((e) => e !== who.byHand), who.manager])
      expect((await received(email)).length, email).toBeGreaterThan(0);

    // A digest carries the unsubscribe headers and a signed Reply-To, like a learner's email.
    expect(headerOf(who.manager, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(headerOf(who.manager, 'List-Unsubscribe')).toMatch(
      /^<mailto:progress\+m[a-z0-9]+@gym\.example\.gov\.uk\?subject=unsubscribe>, <https:\/\/gym\.example\.gov\.uk\/unsubscribe\/m[a-z0-9]+>$/,
    );
    const digestReplyTo = taggedTokenFromAddress(
      headerOf(who.manager, 'Reply-To'),
      mail.replyAddress,
      'g',
    );
    expect(verifyDigestReplyToken(mail.secret, digestReplyTo ?? '')).toBeGreaterThan(0);

    // One-click: what a mail client's Unsubscribe button POSTs to the List-Unsubscribe URL.
    const linkOf = (email: string) =>
      new URL(/<(https:[^>]+)>/.exec(headerOf(email, 'List-Unsubscribe'))![1]!).pathname;
    const oneClick = await fetch(`${server.url}${linkOf(who.oneClick)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.status).toBe(200);
    // The confirm page: a GET shows a button (and changes nothing), its form POSTs.
    const page = await fetch(`${server.url}${linkOf(who.confirmPage)}`);
    const form = /<input type="hidden" name="([^"]+)" value="([^"]+)">/.exec(await page.text());
    const confirmed = await fetch(`${server.url}${linkOf(who.confirmPage)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `${form![1]}=${form![2]}`,
    });
    expect(confirmed.status).toBe(200);
    // The mailto: address of List-Unsubscribe.
    const mailto = /<mailto:([^?>]+)/.exec(headerOf(who.mailto, 'List-Unsubscribe'))![1]!;
    const [siobhansFirst] = await received(who.mailto);
    expect(
      await inbound(await replyTo(siobhansFirst!, 'unsubscribe', { to: mailto, thread: false })),
    ).toBe('processed');
    // Replies: "stop" ends this programme; "unsubscribe me" ends all mail.
    const [aishasFirst] = await received(who.stopReply);
    await inbound(await replyTo(aishasFirst!, 'stop'));
    const [danielsFirst] = await received(who.unsubscribeReply);
    await inbound(await replyTo(danielsFirst!, 'Please unsubscribe me'));
    // A hard bounce quoting the Message-ID we sent to Gareth.
    const [garethsFirst] = await received(who.hardBounce);
    await inbound(hardBounceOf(who.hardBounce, garethsFirst!.messageId));
    // By hand (what gym learner suppress runs), before James's programme has begun.
    await database.db.transaction().execute((trx) =>
      suppressByHand(trx, {
        address: who.byHand,
        scope: 'all',
        reason: 'asked by phone',
        by: 'trainer',
        now: clock,
      }),
    );
    // Mark clicks Unsubscribe in his digest; Helen writes to her digest's mailto: address.
    const digestLink = new URL(
      /<(https:[^>]+)>/.exec(headerOf(who.manager, 'List-Unsubscribe'))![1]!,
    ).pathname;
    expect(digestLink).toMatch(/^\/unsubscribe\/m[a-z0-9]+$/);
    const markClicks = await fetch(`${server.url}${digestLink}`, {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
    });
    expect(markClicks.status).toBe(200);
    const helensDigest = (await received(who.managerByMail)).find((m) =>
      /this fortnight/.test(m.subject),
    );
    const helensMailto = /<mailto:([^?>]+)/.exec(
      headerOf(who.managerByMail, 'List-Unsubscribe'),
    )![1]!;
    expect(helensDigest, 'Helen had a digest').toBeDefined();
    expect(
      await inbound(
        await replyTo(helensDigest!, 'unsubscribe', { to: helensMailto, thread: false }),
      ),
    ).toBe('processed');

    // Every path wrote the person's no, saying how.
    const rows = await database.db
      .selectFrom('suppressions')
      .select(['address', 'scope', 'how'])
      .where('lifted_at', 'is', null)
      .orderBy('address')
      .execute();
    expect(rows).toEqual(
      [
        { address: who.oneClick, scope: 'all', how: 'one_click' },
        { address: who.confirmPage, scope: 'all', how: 'link_confirm' },
        { address: who.mailto, scope: 'all', how: 'mailto' },
        { address: who.stopReply, scope: 'programme:digital-engagement-for-policy', how: 'reply' },
        { address: who.unsubscribeReply, scope: 'all', how: 'reply' },
        { address: who.byHand, scope: 'all', how: 'by_hand' },
        { address: who.hardBounce, scope: 'all', how: 'hard_bounce' },
        { address: who.manager, scope: 'digests', how: 'one_click' },
        { address: who.managerByMail, scope: 'digests', how: 'mailto' },
      ].sort((a, b) => a.address.localeCompare(b.address)),
    );

    // What the opt-outs themselves send (Aisha's "Stopped" acknowledgement) goes now.
    await runUntil(new Date('2027-01-05T18:00:00Z'));
    const before = new Map<string, number>();
    for (const email of [...saidNo, who.manager, who.managerByMail])
      before.set(email, (await received(email)).length);
    const fionaBefore = (await received(who.carriesOn)).length;

    // The same cohort again: everyone who said no is skipped, by line, with what they said.
    const again = await enrolCohort(
      enrolmentStore(database.db),
      exampleCohort.rows,
      shippedProgrammes,
      { dryRun: false, holidays: new Set() },
    );
    const skipped = again.filter((r) => r.action === 'skipped');
    expect(skipped.map((r) => r.email).sort()).toEqual([...saidNo].sort());
    expect(again.find((r) => r.email === who.oneClick)!.notice).toBe(
      'unsubscribed on 2027-01-05 (one-click); skipped',
    );
    expect(again.find((r) => r.email === who.stopReply)!.notice).toBe(
      'stopped digital-engagement-for-policy on 2027-01-05 (reply); skipped',
    );
    expect(again.find((r) => r.email === who.carriesOn)!.action).toBe('kept');

    // Three more weeks, digests included: nothing more to anyone who said no.
    await runUntil(new Date('2027-01-26T00:00:00Z'));
    for (const [email, count] of before)
      expect((await received(email)).length, `mail to ${email} after saying no`).toBe(count);
    // Fiona, whose manager stopped only his digests, carries on: her weeks 1 and 2 arrived.
    expect((await received(who.carriesOn)).length).toBeGreaterThan(fionaBefore + 1);
    // Mark's fortnight digest of 18 January was not sent, and says why.
    const marks = await database.db
      .selectFrom('manager_digests')
      .innerJoin('managers', 'managers.id', 'manager_digests.manager_id')
      .select(['period_starts_on', 'manager_digests.status', 'reason'])
      .where('managers.email', '=', who.manager)
      .where('period_starts_on', '=', '2027-01-18')
      .executeTakeFirstOrThrow();
    expect(marks).toMatchObject({ status: 'skipped' });
    expect(marks.reason).toMatch(/stopped the manager digests on 2027-01-05 \(one-click\)/);
  });

  it('never counts a manager’s unsubscribe as engagement', async () => {
    const report = computeReport(await readReportData(database.db, { now: clock }));
    for (const email of [who.manager, who.managerByMail]) {
      const manager = report.managers.find((m) => m.email === email);
      expect(manager, email).toBeDefined();
      expect(manager!.replies, email).toBe(0);
      expect(manager!.lastEngagementAt, email).toBeUndefined();
    }
    const replies = await database.db.selectFrom('manager_replies').selectAll().execute();
    expect(replies).toEqual([]);
  });
});

describe.each(testBackends())('the dispatcher reads consent at send time on $name', (backend) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let worker: DispatchDependencies;

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
      digests: digestStore(database.db),
    };
    await enrolCohort(enrolmentStore(database.db), exampleCohort.rows, shippedProgrammes, {
      dryRun: false,
      holidays: new Set(),
    });
  });
  afterAll(async () => {
    await worker?.transport.close();
    await smtp?.close();
    await database?.close();
  });

  it('cancels, with the reason, a row queued before the person said no, and sends nothing', async () => {
    // Only the suppression row: the enrolment and its queued rows are left as they were, so
    // the dispatcher's own check is all that stands between Priya and her week 1 email.
    await suppress(database.db, {
      address: ' Priya.Sharma@FCDO.gov.uk ',
      scope: 'all',
      how: 'complaint',
      now: new Date('2027-01-03T12:00:00Z'),
    });
    // Mark's digests stop; Fiona and Gareth's mail does not.
    await suppress(database.db, {
      address: 'mark.davies@cardiff.gov.uk',
      scope: 'digests',
      how: 'by_hand',
      now: new Date('2027-01-03T12:00:00Z'),
    });
    const now = new Date('2027-01-04T12:00:00Z');
    await drainDue(worker, () => now);
    await digestTick(worker, worker.digests!, now);

    const to = (email: string) => smtp.received.filter((m) => m.to.includes(email));
    expect(to('priya.sharma@fcdo.gov.uk')).toEqual([]);
    expect(to('mark.davies@cardiff.gov.uk')).toEqual([]);
    expect(to('gareth.jones@cardiff.gov.uk').length).toBeGreaterThan(0);
    expect(to('helen.walsh@fcdo.gov.uk').length).toBeGreaterThan(0);

    const priyas = await database.db
      .selectFrom('deliveries')
      .innerJoin('enrolments', 'enrolments.id', 'deliveries.enrolment_id')
      .innerJoin('learners', 'learners.id', 'enrolments.learner_id')
      .select(['deliveries.status', 'deliveries.reason'])
      .where('learners.email', '=', 'priya.sharma@fcdo.gov.uk')
      .where('deliveries.status', '!=', 'pending')
      .execute();
    expect(priyas.length).toBeGreaterThan(0);
    for (const row of priyas)
      expect(row).toEqual({
        status: 'cancelled',
        reason: 'priya.sharma@fcdo.gov.uk complained on 2027-01-03 (complaint)',
      });
    const marks = await database.db
      .selectFrom('manager_digests')
      .select(['status', 'reason'])
      .where(
        'manager_id',
        '=',
        database.db
          .selectFrom('managers')
          .select('id')
          .where('email', '=', 'mark.davies@cardiff.gov.uk'),
      )
      .execute();
    expect(marks).toEqual([
      {
        status: 'skipped',
        reason: 'the manager stopped the manager digests on 2027-01-03 (by hand)',
      },
    ]);
    // Nor is he introduced: the introduction is the digests' first email, and he said no to them.
    const introduction = await database.db
      .selectFrom('manager_introductions')
      .innerJoin('managers', 'managers.id', 'manager_introductions.manager_id')
      .select(['manager_introductions.status', 'reason'])
      .where('managers.email', '=', 'mark.davies@cardiff.gov.uk')
      .execute();
    expect(introduction).toEqual([
      {
        status: 'skipped',
        reason: 'the manager stopped the manager digests on 2027-01-03 (by hand)',
      },
    ]);
  });

  it('stops a manager\'s digests on their "unsubscribe" reply to the digest, and holds a stop only From vouches for', async () => {
    const handle = (raw: Buffer) =>
      handleInbound(
        {
          store: replyStore(database.db),
          read: readMessage,
          secret: testMail.secret,
          replyAddress: testMail.replyAddress,
          now: () => new Date('2027-01-04T15:00:00Z'),
        },
        { raw, mailbox: 'INBOX', uid: undefined },
      );
    const digestTo = async (email: string) =>
      answered(
        smtp.received.find(
          (m) => m.to.includes(email) && m.data.includes('Subject: Your team this fortnight'),
        )!.data,
      );
    const rachels = await digestTo('rachel.green@businessandtrade.gov.uk');
    expect(rachels.replyTo).toMatch(/^progress\+g[a-z0-9]+@gym\.example\.gov\.uk$/);
    // The footer's Unsubscribe without a web page: a reply "unsubscribe" to the digest.
    await handle(await replyTo(rachels, 'unsubscribe', { thread: false }));
    // Helen's address, written by someone else, to the bare mailbox: no proof it is her.
    const helens = await digestTo('helen.walsh@fcdo.gov.uk');
    await handle(await replyTo(helens, 'stop', { to: testMail.replyAddress, thread: false }));
    const rows = await database.db
      .selectFrom('suppressions')
      .select(['address', 'scope', 'how'])
      .where('scope', '=', 'digests')
      .orderBy('address')
      .execute();
    expect(rows).toEqual([
      { address: 'mark.davies@cardiff.gov.uk', scope: 'digests', how: 'by_hand' },
      { address: 'rachel.green@businessandtrade.gov.uk', scope: 'digests', how: 'reply' },
    ]);
    const held = await database.db
      .selectFrom('inbound_messages')
      .select('status')
      .where('from_address', '=', 'helen.walsh@fcdo.gov.uk')
      .executeTakeFirstOrThrow();
    expect(held.status).toBe('quarantined');
    // Neither is a manager's engagement.
    expect(await database.db.selectFrom('manager_replies').selectAll().execute()).toEqual([]);
  });
});
