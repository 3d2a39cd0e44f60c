import type { MailboxCursor, MailboxPosition } from '../../src/db/mailbox-store.js';
import type { InboundHandler, InboundItem, SourceLog } from '../../src/inbound/source.js';

/** A reply as a learner's mail client would send it, with a Message-ID of our choosing. */
export function replyMessage(id: string, body = 'done'): string {
  return [
    `From: Learner ${id} <learner-${id}@example.test>`,
    'To: engine@example.test',
    'Subject: Re: Week 1: your first practice',
    `Message-ID: <${id}@example.test>`,
    'Date: Mon, 04 Jan 2027 09:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n');
}

/**
 * A handler that behaves like the real one where it matters here: idempotent by Message-ID.
 * `firstSeen` counts messages recorded for the first time (what the real handler would insert);
 * `calls` counts every hand-over, duplicates included.
 */
export function recordingHandler(options: { unreadable?: (messageId: string) => boolean } = {}) {
  const callsById = new Map<string, number>();
  const items: InboundItem[] = [];
  let calls = 0;
  let firstSeen = 0;
  const handler: InboundHandler = (item) => {
    calls += 1;
    items.push(item);
    const messageId = /^Message-ID:[ \t]*<([^>]+)>/im.exec(item.raw.toString('latin1'))?.[1];
    if (messageId === undefined) return Promise.resolve('failed');
    const before = callsById.get(messageId) ?? 0;
    callsById.set(messageId, before + 1);
    if (before === 0) firstSeen += 1;
    return Promise.resolve(options.unreadable?.(messageId) ? 'failed' : 'processed');
  };
  return {
    handler,
    callsById,
    items,
    calls: () => calls,
    firstSeen: () => firstSeen,
    distinct: () => new Set(callsById.keys()),
  };
}

/** The cursor's rules, in memory, for tests where the database is not the point. */
export function memoryCursor(): MailboxCursor & { positions: Map<string, MailboxPosition> } {
  const positions = new Map<string, MailboxPosition>();
  return {
    positions,
    get: (mailbox) => Promise.resolve(positions.get(mailbox)),
    advance(mailbox, uidValidity, lastUid) {
      const saved = positions.get(mailbox);
      positions.set(mailbox, {
        uidValidity,
        lastUid: saved?.uidValidity === uidValidity ? Math.max(saved.lastUid, lastUid) : lastUid,
      });
      return Promise.resolve();
    },
  };
}

export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** A logger that keeps what it is told, for assertions on what the listener reported. */
export function recordingLog(): SourceLog & {
  entries: LogEntry[];
  count(message: RegExp): number;
} {
  const entries: LogEntry[] = [];
  const write = (level: LogEntry['level']) => (fields: object, message: string) => {
    entries.push({ level, message, fields: fields as Record<string, unknown> });
  };
  return {
    entries,
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    count: (message) => entries.filter((entry) => message.test(entry.message)).length,
  };
}
