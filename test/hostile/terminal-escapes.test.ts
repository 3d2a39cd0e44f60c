import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { replyStore } from '../../src/db/reply-store.js';
import { handleInbound } from '../../src/engine/replies.js';
import { readMessage } from '../../src/replies/read.js';
import { runGym } from '../helpers/cli.js';
import { mail } from './helpers.js';

/**
 * Terminal escapes (#16): a stranger's subject, address and words are printed by `gym inbox` on
 * the trainer's terminal, where an escape sequence could clear the screen, retitle the window or
 * hide a line. They are printed without control characters.
 */
describe('Terminal escapes', () => {
  it('Terminal escapes: gym inbox prints no control or escape character from a sender', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gym-escapes-'));
    const database = await createDatabase({ kind: 'pglite', dataDir: join(dataDir, 'db') });
    const esc = '\u001b';
    const subject = `Re: Week 1${esc}[2J${esc}]0;owned\u0007 \u009b31m\u202eevil`;
    try {
      await migrateToLatest(database.db);
      const raw = Buffer.from(
        [
          `From: "Mallory${esc}[8m" <"mallory${esc}[1A"@elsewhere.example>`,
          'To: progress@gym.example.gov.uk',
          `Subject: =?utf-8?B?${Buffer.from(subject).toString('base64')}?=`,
          'Message-ID: <escapes@elsewhere.example>',
          'Date: Mon, 04 Jan 2027 11:00:00 +0000',
          'Content-Type: text/plain; charset=utf-8',
          '',
          `hello${esc}[31m red ${esc}]8;;http://x.example${esc}\\link`,
          '',
        ].join('\r\n'),
      );
      const verdict = await handleInbound(
        {
          store: replyStore(database.db),
          read: readMessage,
          secret: mail.secret,
          replyAddress: mail.replyAddress,
          now: () => new Date('2027-01-04T12:00:00Z'),
        },
        { raw, mailbox: 'INBOX', uid: undefined },
      );
      expect(verdict).toBe('processed');
    } finally {
      await database.close();
    }

    for (const args of [['inbox'], ['inbox', '--json']]) {
      const result = await runGym(args, { GYM_DATA_DIR: dataDir });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('mallory');
      // eslint-disable-next-line no-control-regex
      expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    }
    const listed = (await runGym(['inbox'], { GYM_DATA_DIR: dataDir })).stdout;
    // Still readable: the words are there, each control character shown as "?".
    expect(listed).toContain('Re: Week 1?[2J?]0;owned? ?31m?evil');
    expect(listed).toContain('says: hello?[31m red');
  }, 180_000);
});
