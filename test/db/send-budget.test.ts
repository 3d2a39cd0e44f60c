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
      { granted: false, retryAt: new Date('2027-01-04T09:00:01.000Z') },
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
});
