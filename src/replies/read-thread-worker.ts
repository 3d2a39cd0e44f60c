/**
 * The thread `threadReader` (./read-in-thread.ts) starts: reads each message it is sent with
 * `readMessage` and answers with the reading, or with the error's message.
 */
import { parentPort } from 'node:worker_threads';
import { messageOf } from '../errors.js';
import { readMessage } from './read.js';
import type { ThreadRequest, ThreadAnswer } from './read-in-thread.js';

const port = parentPort;
if (port === null) throw new Error('read-thread-worker runs as a worker thread only');
port.on('message', ({ id, raw, options }: ThreadRequest) => {
  readMessage(raw, options).then(
    (read) => port.postMessage({ id, read } satisfies ThreadAnswer),
    (error: unknown) => port.postMessage({ id, error: messageOf(error) } satisfies ThreadAnswer),
  );
});
