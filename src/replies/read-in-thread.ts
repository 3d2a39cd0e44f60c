import { Worker } from 'node:worker_threads';
import type { readMessage } from './read.js';
import type { ReadMessage } from './types.js';

/**
 * The reply reader in a thread of its own (#17). Reading a reply (parsing, quote stripping, the
 * phrase scans) is CPU only and most of handling it: in a thread it runs on another core while
 * the listener's own thread records the batch before in the database (see `drainInOrder`), and
 * a message slow to read does not hold up the process's event loop (leases, IDLE, /healthz).
 *
 * The thread starts with the first message, and keeps the process alive only while it reads
 * (then the process is waiting for it). If it dies, what it was reading fails (the message is
 * parked, as an unreadable one would be) and the next message starts a new one. `close()` ends
 * it.
 */
export interface ThreadReader {
  read(raw: Buffer | Uint8Array, options?: ReadOptions): Promise<ReadMessage>;
  close(): Promise<void>;
}

type ReadOptions = Parameters<typeof readMessage>[1];

export interface ThreadRequest {
  readonly id: number;
  readonly raw: Uint8Array;
  readonly options: ReadOptions;
}

export type ThreadAnswer =
  | { readonly id: number; readonly read: ReadMessage }
  | { readonly id: number; readonly error: string };

const fromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(`./read-thread-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);

function newThread(): Worker {
  // None of the process's own options: they are for its main thread (`--input-type`, a profiler).
  const options = { execArgv: [] };
  if (!fromSource) return new Worker(workerUrl, options);
  // Run from source (tsx, the tests), the thread loads TypeScript through tsx's loader,
  // registered in the thread itself: Node 20 does not hand `--import` on to worker threads.
  const code =
    `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register();` +
    `await import(${JSON.stringify(workerUrl.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), options);
}

export function threadReader(): ThreadReader {
  let worker: Worker | undefined;
  let nextId = 0;
  const waiting = new Map<
    number,
    { resolve: (read: ReadMessage) => void; reject: (error: Error) => void }
  >();

  const failAll = (error: Error) => {
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };

  const started = (): Worker => {
    if (worker !== undefined) return worker;
    const thread = newThread();
    thread.on('message', (answer: ThreadAnswer) => {
      const waiter = waiting.get(answer.id);
      if (waiter === undefined) return;
      waiting.delete(answer.id);
      if (waiting.size === 0) thread.unref();
      if ('read' in answer) waiter.resolve(answer.read);
      else waiter.reject(new Error(answer.error));
    });
    const gone = (error: Error) => {
      if (worker === thread) worker = undefined;
      failAll(error);
    };
    thread.on('error', (error) =>
      gone(new Error(`the reply reader's thread failed: ${error.message}`)),
    );
    thread.on('exit', (code) =>
      gone(new Error(`the reply reader's thread ended (exit code ${code})`)),
    );
    worker = thread;
    return thread;
  };

  return {
    read(raw, options) {
      const id = nextId++;
      return new Promise<ReadMessage>((resolve, reject) => {
        const thread = started();
        if (waiting.size === 0) thread.ref();
        waiting.set(id, { resolve, reject });
        // Copied to the thread (a structured clone): the caller keeps its buffer.
        thread.postMessage({ id, raw, options } satisfies ThreadRequest);
      });
    },
    async close() {
      const thread = worker;
      worker = undefined;
      failAll(new Error("the reply reader's thread was closed"));
      await thread?.terminate();
    },
  };
}
