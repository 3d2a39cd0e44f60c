import { access, mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { messageOf } from '../errors.js';
import {
  drainInOrder,
  type InboundBatchHandler,
  type InboundHandler,
  type MailSource,
  type SourceLog,
} from './source.js';

export interface MaildirSourceOptions {
  /** The inbox Maildir, `.gym/inbox` by default in `gym run`; created when missing. */
  readonly dir: string;
  readonly handler: InboundHandler;
  /** When given, up to 50 files at a time are handed over at once, then each is filed. */
  readonly batchHandler?: InboundBatchHandler | undefined;
  readonly logger: SourceLog;
  /** How often `start()` looks for new files (5 seconds by default). */
  readonly pollIntervalMs?: number | undefined;
}

/** Maildir++ folders, as Dovecot and Courier lay them out: `.Name/` beside `new/` and `cur/`. */
const processedFolder = '.Processed';
const failedFolder = '.Failed';
/** Files handed to a batch handler at once. */
const batchFiles = 50;

/**
 * The embedded inbox: a Maildir that any MTA (Postfix's `home_mailbox = Maildir/`, fetchmail,
 * `gym` itself in tests) delivers to, read without a server. Each message in `new/` or `cur/` is
 * handed to the handler in name order (Maildir names start with the delivery time), then
 * renamed into `.Processed/cur/` or `.Failed/cur/`: a rename within one file system is atomic,
 * so a message is always in exactly one place, and nothing is ever deleted.
 *
 * `tmp/` is never read: a file there is still being written. A crash between the handler and the
 * rename hands the message over again, which the handler's Message-ID check makes harmless.
 */
export function maildirSource(options: MaildirSourceOptions): MailSource {
  const dir = resolve(options.dir);
  const log = options.logger;
  const pollIntervalMs = options.pollIntervalMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let ready: Promise<void> | undefined;

  // Drains run one at a time; a trigger during a drain joins the one queued behind it.
  let lastDrain: Promise<unknown> = Promise.resolve();
  let queuedDrain: Promise<number> | undefined;

  function prepare(): Promise<void> {
    ready ??= (async () => {
      for (const folder of ['', processedFolder, failedFolder]) {
        for (const sub of ['tmp', 'new', 'cur']) {
          await mkdir(join(dir, folder, sub), { recursive: true });
        }
      }
    })().catch((error: unknown) => {
      // Tried again next time: the operator may have fixed the folder meanwhile.
      ready = undefined;
      throw error;
    });
    return ready;
  }

  async function waitingFiles(): Promise<{ sub: string; name: string }[]> {
    const files: { sub: string; name: string }[] = [];
    for (const sub of ['new', 'cur']) {
      for (const entry of await readdir(join(dir, sub), { withFileTypes: true })) {
        // Dot files are not messages (some tools leave `.nfs*` or lock files).
        if (entry.isFile() && !entry.name.startsWith('.')) files.push({ sub, name: entry.name });
      }
    }
    // Name order is delivery order: Maildir names begin with the delivery time in seconds.
    return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async function drain(): Promise<number> {
    await prepare();
    const files = await waitingFiles();
    const size = options.batchHandler === undefined ? 1 : batchFiles;
    async function* fetched() {
      for (let start = 0; start < files.length && !stopping; start += size) {
        const batch: { from: string; name: string; raw: Buffer }[] = [];
        for (const { sub, name } of files.slice(start, start + size)) {
          const from = join(dir, sub, name);
          try {
            batch.push({ from, name, raw: await readFile(from) });
          } catch (error) {
            // Another reader took it first (two `gym` processes on one folder).
            if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
            throw error;
          }
        }
        if (batch.length > 0) yield batch;
      }
    }
    return drainInOrder({
      fetched: fetched(),
      handler: options.handler,
      batchHandler: options.batchHandler,
      itemOf: ({ raw }) => ({ raw, mailbox: dir, uid: undefined }),
      file: async ({ from, name }, verdict) => {
        const folder = verdict === 'processed' ? processedFolder : failedFolder;
        await rename(from, await freeName(join(dir, folder, 'cur'), name));
      },
      stopping: () => stopping,
    });
  }

  function requestDrain(): Promise<number> {
    if (queuedDrain !== undefined) return queuedDrain;
    const next = lastDrain.then(() => {
      queuedDrain = undefined;
      return stopping ? 0 : drain();
    });
    queuedDrain = next;
    lastDrain = next.catch(() => {});
    return next;
  }

  function drainInBackground() {
    requestDrain().catch((error: unknown) => {
      log.error({ dir, err: messageOf(error) }, 'reading the inbox folder failed');
    });
  }

  return {
    async start() {
      if (timer !== undefined) return;
      stopping = false;
      await prepare();
      log.info({ dir, pollIntervalMs }, 'reading replies from the inbox folder');
      timer = setInterval(drainInBackground, pollIntervalMs);
      drainInBackground();
    },
    poll: requestDrain,
    async stop() {
      stopping = true;
      clearInterval(timer);
      timer = undefined;
      await lastDrain;
    },
  };
}

/**
 * The name the message gets in `cur/`: with the `:2,` info suffix (S: seen) that Maildir wants
 * there, and never one that exists already, since rename() would silently replace that file.
 */
async function freeName(curDir: string, name: string): Promise<string> {
  const [unique = name, flags = 'S'] = name.split(':2,');
  for (let n = 0; ; n++) {
    const candidate = join(curDir, `${n === 0 ? unique : `${unique}.${n}`}:2,${flags}`);
    try {
      await access(candidate);
    } catch {
      return candidate;
    }
  }
}
