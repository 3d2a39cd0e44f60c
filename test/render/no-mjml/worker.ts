/*
 * One dispatcher tick as `gym run` makes it (the store, stored compiled programmes, a Maildir
 * outbox), in a process where MJML cannot be loaded (see ./hook.js). Prints the tick's counts,
 * or the error, as one JSON line.
 */
import { storedProgrammes } from '../../../src/db/compiled-programmes.js';
import { createDatabase } from '../../../src/db/database.js';
import { dispatchStore } from '../../../src/db/dispatch-store.js';
import { dispatchTick } from '../../../src/engine/dispatch.js';
import { createMaildirTransport } from '../../../src/mail/maildir-transport.js';

const database = await createDatabase({ kind: 'pglite', dataDir: process.env.GYM_TEST_DB! });
const transport = createMaildirTransport({ dir: process.env.GYM_TEST_OUTBOX! });
try {
  const counts = await dispatchTick(
    {
      store: dispatchStore(database.db),
      transport,
      mail: {
        secret: 'a-test-secret-of-at-least-32-characters!',
        from: 'Digital Gym <gym@gym.example.gov.uk>',
        replyAddress: 'progress@gym.example.gov.uk',
        publicUrl: undefined,
      },
      workerId: 'no-mjml',
      retryDelay: () => 60_000,
      compiled: storedProgrammes(database.db, { validation: 'soft' }),
    },
    new Date(process.env.GYM_TEST_NOW!),
  );
  process.stdout.write(`${JSON.stringify({ counts })}\n`);
} finally {
  await transport.close();
  await database.close();
}
