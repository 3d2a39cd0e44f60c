import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendBudget } from '../../src/db/send-budget.js';
import { openMigrated, testBackends, type TestDatabase } from '../helpers/backends.js';

describe.each(testBackends())('the shared send budget on $name', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openMigrated(backend);
  });
  afterAll(() => database?.close());

  it('grants the cap within a second, then points at the next second', async () => {
    const budget = sendBudget(database.db, 3);
    const at = new Date('2027-01-04T09:00:00.250Z');
    const places = [];
    for (let i = 0; i < 4; i++) places.push(await budget.take(at));
    expect(places).toEqual([
      { granted: true },
      { granted: true },
      { granted: true },
      {
        granted: false,
        retryAt: new Date('2027-01-04T09:00:01.000Z'),
        reason: 'SMTP_MAX_PER_SECOND: 3 sent this second',
      },
    ]);
    expect(await budget.take(new Date('2027-01-04T09:00:01.100Z'))).toEqual({ granted: true });
  });

  it('never grants more than the cap to workers taking places at once', async () => {
    const other = await database.connectAgain();
    try {
      const at = new Date('2027-01-04T10:00:00Z');
      const mine = sendBudget(database.db, 10);
      const theirs = sendBudget(other.db, 10);
      const places = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? mine : theirs).take(at)),
      );
      expect(places.filter((p) => p.granted)).toHaveLength(10);
    } finally {
      await other.close();
    }
  });

  it('grants a batch as many places as the limits allow, in one go, never more between workers', async () => {
    const other = await database.connectAgain();
    try {
      const at = new Date('2027-01-04T11:00:00.500Z');
      const mine = sendBudget(database.db, { perSecond: 10, perMinute: 25 });
      const theirs = sendBudget(other.db, { perSecond: 10, perMinute: 25 });
      const [a, b] = await Promise.all([mine.reserve(at, 8), theirs.reserve(at, 8)]);
      // Ten places this second, shared between the two batches; the short one says why.
      expect(a.granted + b.granted).toBe(10);
      expect([a, b].find((r) => r.granted < 8)).toMatchObject({
        retryAt: new Date('2027-01-04T11:00:01.000Z'),
        reason: 'SMTP_MAX_PER_SECOND: 10 sent this second',
      });
      // The next seconds: the minute's 25 bind before the second's 10.
      expect(await mine.reserve(new Date('2027-01-04T11:00:01Z'), 10)).toEqual({ granted: 10 });
      expect(await mine.reserve(new Date('2027-01-04T11:00:02Z'), 10)).toEqual({
        granted: 5,
        retryAt: new Date('2027-01-04T11:01:00Z'),
        reason: 'SMTP_MAX_PER_MINUTE: 25 sent this minute',
      });
    } finally {
      await other.close();
    }
  });

  it('never grants more than SMTP_MAX_PER_MINUTE to workers taking places at once', async () => {
    const other = await database.connectAgain();
    try {
      const at = new Date('2027-02-01T10:00:20Z');
      const mine = sendBudget(database.db, { perMinute: 30 });
      const theirs = sendBudget(other.db, { perMinute: 30 });
      const places = await Promise.all(
        Array.from({ length: 45 }, (_, i) => (i % 2 === 0 ? mine : theirs).take(at)),
      );
      expect(places.filter((p) => p.granted)).toHaveLength(30);
      expect(places.find((p) => !p.granted)).toEqual({
        granted: false,
        retryAt: new Date('2027-02-01T10:01:00Z'),
        reason: 'SMTP_MAX_PER_MINUTE: 30 sent this minute',
      });
      expect(await mine.take(new Date('2027-02-01T10:01:00Z'))).toEqual({ granted: true });
    } finally {
      await other.close();
    }
  });

  it('counts SMTP_MAX_PER_DAY over a rolling 24 hours and says when the oldest minute frees a place', async () => {
    const budget = sendBudget(database.db, { perDay: 3 });
    expect(await budget.take(new Date('2027-03-01T08:00:00Z'))).toEqual({ granted: true });
    expect(await budget.take(new Date('2027-03-01T13:30:00Z'))).toEqual({ granted: true });
    expect(await budget.take(new Date('2027-03-01T20:00:00Z'))).toEqual({ granted: true });
    expect(await budget.take(new Date('2027-03-02T07:59:00Z'))).toEqual({
      granted: false,
      retryAt: new Date('2027-03-02T08:00:00Z'),
      reason: 'SMTP_MAX_PER_DAY: 3 sent in the last 24 hours',
    });
    expect(await budget.take(new Date('2027-03-02T08:00:00Z'))).toEqual({ granted: true });
    expect((await budget.take(new Date('2027-03-02T09:00:00Z'))).granted).toBe(false);
  });

  it('holds everyone back while the relay asked for a pause', async () => {
    const budget = sendBudget(database.db, {});
    await budget.pauseRelay!(new Date('2027-04-01T09:01:00Z'));
    expect(await budget.take(new Date('2027-04-01T09:00:30Z'))).toMatchObject({
      granted: false,
      retryAt: new Date('2027-04-01T09:01:00Z'),
    });
    expect(await budget.take(new Date('2027-04-01T09:01:00Z'))).toEqual({ granted: true });
  });
});
