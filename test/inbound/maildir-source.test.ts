import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { maildirSource } from '../../src/inbound/maildir-source.js';
import type { MailSource } from '../../src/inbound/source.js';
import { recordingHandler, recordingLog, replyMessage } from './helpers.js';

describe('the Maildir inbox', () => {
  let dir: string;
  let source: MailSource | undefined;
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'gym-inbox-')), 'inbox');
  });
  afterEach(async () => {
    await source?.stop();
    source = undefined;
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  /** Delivers as an MTA does: written in tmp/, then renamed into new/. */
  async function deliver(name: string, raw: string, sub: 'new' | 'cur' | 'tmp' = 'new') {
    await writeFile(join(dir, sub, name), raw);
  }

  it('creates the Maildir++ folders it needs', async () => {
    source = maildirSource({ dir, handler: recordingHandler().handler, logger: recordingLog() });
    expect(await source.poll()).toBe(0);
    for (const folder of ['', '.Processed', '.Failed']) {
      expect((await readdir(join(dir, folder))).sort()).toEqual(
        expect.arrayContaining(['cur', 'new', 'tmp']),
      );
    }
  });

  it('hands over new/ and cur/ in name order, files each by verdict, and skips tmp/', async () => {
    const recorder = recordingHandler({ unreadable: (id) => id.startsWith('garbled') });
    source = maildirSource({ dir, handler: recorder.handler, logger: recordingLog() });
    await source.poll(); // creates the folders
    await deliver('1700000003.M1P1.host', replyMessage('third'));
    await deliver('1700000001.M1P1.host', replyMessage('first'));
    await deliver('1700000002.M1P1.host:2,S', replyMessage('garbled'), 'cur');
    await deliver('1700000004.M1P1.host', replyMessage('half-written'), 'tmp');

    expect(await source.poll()).toBe(3);
    expect(
      recorder.items.map((item) => /^Message-ID: <([^@]+)@/m.exec(item.raw.toString())?.[1]),
    ).toEqual(['first', 'garbled', 'third']);
    expect(recorder.items.every((item) => item.uid === undefined)).toBe(true);
    expect(await readdir(join(dir, 'new'))).toEqual([]);
    expect(await readdir(join(dir, 'cur'))).toEqual([]);
    expect(await readdir(join(dir, 'tmp'))).toEqual(['1700000004.M1P1.host']);
    expect((await readdir(join(dir, '.Processed', 'cur'))).sort()).toEqual([
      '1700000001.M1P1.host:2,S',
      '1700000003.M1P1.host:2,S',
    ]);
    expect(await readdir(join(dir, '.Failed', 'cur'))).toEqual(['1700000002.M1P1.host:2,S']);
    // Moved, not rewritten.
    expect(await readFile(join(dir, '.Processed', 'cur', '1700000001.M1P1.host:2,S'), 'utf8')).toBe(
      replyMessage('first'),
    );
    expect(await source.poll()).toBe(0);
  });

  it('never replaces a file already filed under the same name', async () => {
    const recorder = recordingHandler();
    source = maildirSource({ dir, handler: recorder.handler, logger: recordingLog() });
    await source.poll();
    await deliver('1700000001.M1P1.host', replyMessage('once'));
    await source.poll();
    await deliver('1700000001.M1P1.host', replyMessage('again'));
    await source.poll();
    expect((await readdir(join(dir, '.Processed', 'cur'))).sort()).toEqual([
      '1700000001.M1P1.host.1:2,S',
      '1700000001.M1P1.host:2,S',
    ]);
  });

  it('leaves a message in place when the handler throws, and hands it over again', async () => {
    let failing = true;
    const recorder = recordingHandler();
    source = maildirSource({
      dir,
      logger: recordingLog(),
      handler: (item) =>
        failing ? Promise.reject(new Error('database down')) : recorder.handler(item),
    });
    await source.poll();
    await deliver('1700000001.M1P1.host', replyMessage('retry'));
    await expect(source.poll()).rejects.toThrow(/database down/);
    expect(await readdir(join(dir, 'new'))).toEqual(['1700000001.M1P1.host']);
    failing = false;
    expect(await source.poll()).toBe(1);
    expect(recorder.distinct()).toEqual(new Set(['retry@example.test']));
  });

  it('reads on an interval once started, one drain at a time', async () => {
    const recorder = recordingHandler();
    let running = 0;
    let mostAtOnce = 0;
    source = maildirSource({
      dir,
      logger: recordingLog(),
      pollIntervalMs: 20,
      handler: async (item) => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        return recorder.handler(item);
      },
    });
    await source.start();
    for (let i = 0; i < 20; i++)
      await deliver(`17000000${10 + i}.M1P1.host`, replyMessage(`n${i}`));
    // Triggers from the caller on top of the timer's.
    await Promise.all([source.poll(), source.poll(), source.poll()]);
    await vi.waitFor(() => expect(recorder.distinct().size).toBe(20), { timeout: 10_000 });
    expect(recorder.calls()).toBe(20);
    expect(mostAtOnce).toBe(1);
    await source.stop();
    expect((await readdir(join(dir, '.Processed', 'cur'))).length).toBe(20);
  });
});
