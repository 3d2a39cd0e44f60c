/**
 * `drainInOrder`, the loop both sources drain with: one batch in flight while the next is
 * fetched and handed over, records in the order handed over, files in order, and nothing
 * handled or filed out of turn when a batch fails or the source stops. The sources' own tests
 * (Dovecot, a Maildir folder) run it against the real thing; these pin down the order.
 */
import { describe, expect, it } from 'vitest';
import {
  drainInOrder,
  type InboundBatchHandler,
  type InboundHandler,
  type InboundItem,
} from '../../src/inbound/source.js';

type Message = { readonly batch: number; readonly n: number };

function drainLog(
  batches: readonly (readonly Message[])[],
  options: { failBatch?: number; stopAtHandOver?: number } = {},
) {
  const log: string[] = [];
  let stopping = false;
  const itemOf = (m: Message): InboundItem => ({
    raw: Buffer.from(`${m.batch}.${m.n}`),
    mailbox: 'INBOX',
    uid: m.batch * 100 + m.n,
  });
  async function* fetched() {
    for (const batch of batches) {
      log.push(`fetch ${batch[0]!.batch}`);
      await new Promise((resolve) => setImmediate(resolve));
      yield batch;
    }
  }
  const handler: InboundHandler = async (item) => {
    log.push(`handle one ${item.raw.toString()}`);
    return 'processed';
  };
  const batchHandler: InboundBatchHandler = async (items, after) => {
    const batch = Number(items[0]!.raw.toString().split('.')[0]);
    log.push(`hand over ${batch}${after === undefined ? '' : ' after the one before'}`);
    if (batch === options.stopAtHandOver) stopping = true;
    await after;
    // Recording takes a while (the database): the drain goes on meanwhile.
    await new Promise((resolve) => setImmediate(resolve));
    log.push(`record ${batch}`);
    if (batch === options.failBatch) throw new Error(`batch ${batch}: the database went away`);
    return items.map(() => 'processed');
  };
  const drain = drainInOrder({
    fetched: fetched(),
    handler,
    batchHandler,
    itemOf,
    file: async (m) => {
      log.push(`file ${m.batch}.${m.n}`);
    },
    stopping: () => stopping,
  });
  return { log, drain };
}

const batchOf = (batch: number, size: number): Message[] =>
  Array.from({ length: size }, (_, n) => ({ batch, n }));

describe('drainInOrder', () => {
  it('fetches and hands over the next batch while the one before is recorded, and files in order', async () => {
    const { log, drain } = drainLog([batchOf(1, 2), batchOf(2, 2), batchOf(3, 2)]);
    expect(await drain).toBe(6);
    const at = (line: string) => {
      const index = log.indexOf(line);
      expect(index, line).toBeGreaterThanOrEqual(0);
      return index;
    };
    // The overlap: batch 2 is fetched and handed over before batch 1 is recorded.
    expect(at('hand over 2 after the one before')).toBeLessThan(at('record 1'));
    expect(at('hand over 3 after the one before')).toBeGreaterThan(at('fetch 3'));
    expect(log.filter((line) => line.startsWith('record'))).toEqual([
      'record 1',
      'record 2',
      'record 3',
    ]);
    expect(log.filter((line) => line.startsWith('file'))).toEqual(
      ['1.0', '1.1', '2.0', '2.1', '3.0', '3.1'].map((m) => `file ${m}`),
    );
    for (const batch of [1, 2, 3])
      expect(at(`file ${batch}.0`)).toBeGreaterThan(at(`record ${batch}`));
    // A batch is filed once the next fetch has ended: no command of the source during a fetch.
    expect(at('file 1.0')).toBeGreaterThan(at('fetch 2'));
    expect(at('file 2.0')).toBeGreaterThan(at('fetch 3'));
  });

  it('handles a batch of one message by itself, with nothing else in flight', async () => {
    const { log, drain } = drainLog([batchOf(1, 2), batchOf(2, 1), batchOf(3, 2)]);
    expect(await drain).toBe(5);
    expect(log).toEqual([
      'fetch 1',
      'hand over 1',
      'fetch 2',
      'record 1',
      'file 1.0',
      'file 1.1',
      'fetch 3',
      // Batch 2 is handled and filed before batch 3 is handed over.
      'handle one 2.0',
      'file 2.0',
      'hand over 3',
      'record 3',
      'file 3.0',
      'file 3.1',
    ]);
  });

  it('stops at a failed batch: nothing of it filed, nothing after it handed over again', async () => {
    const { log, drain } = drainLog([batchOf(1, 2), batchOf(2, 2), batchOf(3, 2)], {
      failBatch: 1,
    });
    await expect(drain).rejects.toThrow('batch 1: the database went away');
    expect(log.filter((line) => line.startsWith('file'))).toEqual([]);
    expect(log).not.toContain('hand over 3 after the one before');
  });

  it('when stopping, finishes and files what it handed over, and hands over nothing more', async () => {
    const { log, drain } = drainLog([batchOf(1, 2), batchOf(2, 2), batchOf(3, 2)], {
      stopAtHandOver: 2,
    });
    expect(await drain).toBe(4);
    expect(log.filter((line) => line.startsWith('file'))).toEqual(
      ['1.0', '1.1', '2.0', '2.1'].map((m) => `file ${m}`),
    );
    // The sources stop fetching too; a batch fetched as the stop came is left for next time.
    expect(log.filter((line) => line.startsWith('hand over'))).toEqual([
      'hand over 1',
      'hand over 2 after the one before',
    ]);
  });
});
