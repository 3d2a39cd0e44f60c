import { watch } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMaildirTransport } from '../../src/mail/maildir-transport.js';
import type { OutboundMessage } from '../../src/mail/transport.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function outbox(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gym-outbox-'));
  dirs.push(dir);
  return join(dir, 'outbox');
}

/** A message whose body says which it is, padded to `size` bytes. */
function message(n: number, size = 600): OutboundMessage {
  const head = `From: gym@example.org\r\nTo: learner${n}@example.org\r\nSubject: ${n}\r\nMessage-ID: <d${n}.x@example.org>\r\n\r\n`;
  const body = `message ${n}\r\n`.padEnd(size - head.length - 7, 'x') + '\r\nend\r\n';
  return {
    from: 'progress@example.org',
    to: `learner${n}@example.org`,
    raw: Buffer.from(head + body),
    messageId: `<d${n}.x@example.org>`,
  };
}

const maildirName = /^\d+\.M\d+P\d+R[0-9a-f]{16}Q\d+\.[^/:]+$/;

describe('the Maildir outbox', () => {
  it('puts the exact bytes in new/ under a Maildir name, and nothing elsewhere', async () => {
    const dir = await outbox();
    const mail = createMaildirTransport({ dir });
    const sent = message(1);
    expect(sent.raw.length).toBe(600);
    const outcome = await mail.send(sent);
    const files = await readdir(join(dir, 'new'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(maildirName);
    expect(
      files[0]!.endsWith(`.${hostname().replace(/\//g, '\\057').replace(/:/g, '\\072')}`),
    ).toBe(true);
    expect(outcome).toEqual({
      status: 'sent',
      response: `written to ${join(dir, 'new', files[0]!)}`,
    });
    expect((await readFile(join(dir, 'new', files[0]!))).equals(sent.raw)).toBe(true);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await readdir(join(dir, 'cur'))).toEqual([]);
    await mail.close();
  });

  it('gives 1,000 parallel sends 1,000 distinct files, each complete', async () => {
    const dir = await outbox();
    const mail = createMaildirTransport({ dir });
    const messages = Array.from({ length: 1000 }, (_, i) => message(i));
    const outcomes = await Promise.all(messages.map((m) => mail.send(m)));
    expect(outcomes.filter((o) => o.status !== 'sent')).toEqual([]);
    const files = await readdir(join(dir, 'new'));
    expect(files).toHaveLength(1000);
    expect(new Set(files).size).toBe(1000);
    const contents = await Promise.all(files.map((f) => readFile(join(dir, 'new', f), 'latin1')));
    expect(new Set(contents)).toEqual(new Set(messages.map((m) => m.raw.toString('latin1'))));
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    await mail.close();
  });

  it('never shows a reader of new/ a partly written message', async () => {
    const dir = await outbox();
    const mail = createMaildirTransport({ dir });
    await mail.send(message(0)); // new/ exists from here on
    // A file written in place shows up in new/ empty, then changes: the directory's watcher sees
    // that as 'change'. Files that arrive whole by rename show only as 'rename'.
    const events: { type: string; file: string | null }[] = [];
    const watcher = watch(join(dir, 'new'), (type, file) => events.push({ type, file }));
    const size = 256 * 1024;
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => mail.send(message(i + 1, size))),
    );
    expect(outcomes.every((o) => o.status === 'sent')).toBe(true);
    // Events arrive in order: once the sentinel's is in, every earlier one is too.
    const sentinel = new Promise<void>((seen) =>
      watcher.on('change', (_type, file) => file === 'sentinel' && seen()),
    );
    await writeFile(join(dir, 'new', 'sentinel'), '');
    await sentinel;
    watcher.close();
    await rm(join(dir, 'new', 'sentinel'));
    const ours = events.filter((e) => e.file !== 'sentinel');
    expect(ours.filter((e) => e.type !== 'rename')).toEqual([]);
    expect(new Set(ours.map((e) => e.file)).size).toBe(50);
    for (const file of await readdir(join(dir, 'new'))) {
      expect((await readFile(join(dir, 'new', file))).length).toBeGreaterThanOrEqual(600);
    }
    await mail.close();
  });

  it('clears files a crash left in tmp/ for more than 36 hours, and only those', async () => {
    const dir = await outbox();
    await mkdir(join(dir, 'tmp'), { recursive: true });
    const now = Date.parse('2027-01-04T09:00:00Z');
    await writeFile(join(dir, 'tmp', 'old'), 'half a messa');
    await writeFile(join(dir, 'tmp', 'recent'), 'being writt');
    await utimes(
      join(dir, 'tmp', 'old'),
      new Date(now - 37 * 3600_000),
      new Date(now - 37 * 3600_000),
    );
    await utimes(join(dir, 'tmp', 'recent'), new Date(now - 3600_000), new Date(now - 3600_000));
    const mail = createMaildirTransport({ dir, now: () => now });
    expect((await mail.send(message(1))).status).toBe('sent');
    expect(await readdir(join(dir, 'tmp'))).toEqual(['recent']);
    const [file] = await readdir(join(dir, 'new'));
    expect(file).toMatch(new RegExp(`^${now / 1000}\\.M`));
    await mail.close();
  });

  it('answers retry while the outbox cannot be written, and delivers once it can', async () => {
    const dir = await outbox();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'tmp'), 'a file where the tmp/ folder should be');
    const mail = createMaildirTransport({ dir });
    const outcome = await mail.send(message(1));
    expect(outcome).toMatchObject({ status: 'retry', code: 'EEXIST' });
    expect(outcome.status === 'retry' && outcome.reason).toMatch(new RegExp(`^outbox ${dir}: `));
    await rm(join(dir, 'tmp'));
    expect((await mail.send(message(1))).status).toBe('sent');
    expect(await readdir(join(dir, 'new'))).toHaveLength(1);
    await mail.close();
  });

  it('finishes writing on close, then refuses to send', async () => {
    const dir = await outbox();
    const mail = createMaildirTransport({ dir });
    let settled = 0;
    const outcomes = [1, 2, 3].map((n) => mail.send(message(n)).finally(() => (settled += 1)));
    await mail.close();
    expect(settled).toBe(3);
    expect((await Promise.all(outcomes)).map((o) => o.status)).toEqual(['sent', 'sent', 'sent']);
    expect(() => mail.send(message(4))).toThrow(expect.objectContaining({ code: 'MAIL_INVALID' }));
  });
});
