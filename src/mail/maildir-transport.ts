import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { messageOf } from '../errors.js';
import { closableTransport, type MailTransport, type SendOutcome } from './transport.js';

export interface MaildirTransportOptions {
  /** The Maildir (`tmp/`, `new/`, `cur/` are created inside); `.gym/outbox` by default. */
  readonly dir: string;
  /** The clock for file names and for clearing stale `tmp/` files; the system's by default. */
  readonly now?: (() => number) | undefined;
}

// Maildir's rule: a file left in tmp/ for 36 hours is debris from a crash, never a delivery.
const staleTmpMs = 36 * 60 * 60 * 1000;

/**
 * The embedded outbox: each message becomes one file in a Maildir, the format every mail
 * program and server reads. A message is written to `tmp/`, flushed to disk, then renamed into
 * `new/`, so `new/` only ever holds complete messages, even after a crash or power loss. The
 * file holds exactly the composed bytes (no Return-Path or Delivered-To added).
 *
 * Names follow the Maildir spec, `<seconds>.M<µs>P<pid>R<random>Q<n>.<host>`, with no extension:
 * copy a file to `something.eml` to open it in a mail client, point a client (mutt -f, Thunderbird
 * with a Maildir account) at the folder, or read it with `gym`. Files stay in `new/` ("not yet
 * seen"); a reader that moves them to `cur/` adds the `:2,` flags suffix.
 *
 * Failures to write (a full disk, a folder that cannot be created) are `retry` outcomes: the
 * message is fine, the outbox is not.
 */
export function createMaildirTransport(options: MaildirTransportOptions): MailTransport {
  const dir = resolve(options.dir);
  const now = options.now ?? Date.now;
  const host = safeHostname();
  let counter = 0;
  let ready: Promise<void> | undefined;
  const name = `maildir ${dir}`;

  // Made once, retried after a failure (the operator may have fixed the folder meanwhile).
  function prepare(): Promise<void> {
    ready ??= (async () => {
      for (const sub of ['tmp', 'new', 'cur']) await mkdir(join(dir, sub), { recursive: true });
      await clearStaleTmp(join(dir, 'tmp'), now());
    })().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  }

  function uniqueName(): string {
    const ms = now();
    const seconds = Math.floor(ms / 1000);
    const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000) % 1_000_000;
    counter += 1;
    return `${seconds}.M${micros}P${process.pid}R${randomBytes(8).toString('hex')}Q${counter}.${host}`;
  }

  async function deliver(raw: Buffer): Promise<SendOutcome> {
    let tmpPath: string | undefined;
    try {
      await prepare();
      const file = uniqueName();
      const newPath = join(dir, 'new', file);
      // 'wx': never write over another file, should two names ever collide (and then the file
      // is not ours to remove).
      const handle = await open(join(dir, 'tmp', file), 'wx', 0o600);
      tmpPath = join(dir, 'tmp', file);
      try {
        await handle.writeFile(raw);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmpPath, newPath);
      tmpPath = undefined;
      await syncDirectory(join(dir, 'new'));
      return { status: 'sent', response: `written to ${newPath}` };
    } catch (error) {
      if (tmpPath !== undefined) await unlink(tmpPath).catch(() => {});
      const code =
        typeof error === 'object' &&
        error !== null &&
        'code' in error &&
        typeof error.code === 'string'
          ? error.code
          : undefined;
      return { status: 'retry', reason: `outbox ${dir}: ${messageOf(error)}`, code };
    }
  }

  return closableTransport(name, (message) => deliver(message.raw));
}

/**
 * The rename into new/ is only on disk once the directory is; without this a power cut could
 * lose a message we reported as sent. Some systems cannot open a directory for syncing: there the
 * rename is as durable as the file system makes it.
 */
async function syncDirectory(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') {
      throw error;
    }
  } finally {
    await handle?.close();
  }
}

async function clearStaleTmp(tmp: string, now: number): Promise<void> {
  for (const file of await readdir(tmp)) {
    const path = join(tmp, file);
    try {
      if (now - (await stat(path)).mtimeMs > staleTmpMs) await unlink(path);
    } catch {
      // another worker cleared it first, or it is not ours to remove: either way not a delivery
    }
  }
}

/** The host part of a Maildir name: `/` and `:` are escaped as the spec says. */
function safeHostname(): string {
  return (hostname() || 'localhost').replace(/\//g, '\\057').replace(/:/g, '\\072');
}
