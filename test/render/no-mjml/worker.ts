/*
 * Dispatcher and digest ticks as `gym run` makes them (the store, stored compiled programmes and
 * layouts, a Maildir outbox), in a process where MJML cannot be loaded (see ./hook.js). One tick
 * of each at every instant of GYM_TEST_NOW (comma-separated). Prints the ticks' counts, or the
 * error, as one JSON line.
 */
import { storedLayouts } from '../../../src/db/compiled-layouts.js';
import { storedProgrammes } from '../../../src/db/compiled-programmes.js';
import { createDatabase } from '../../../src/db/database.js';
import { digestStore } from '../../../src/db/digest-store.js';
import { dispatchStore } from '../../../src/db/dispatch-store.js';
import { digestTick } from '../../../src/engine/digests.js';
import { dispatchTick, type DispatchDependencies } from '../../../src/engine/dispatch.js';
import { createMaildirTransport } from '../../../src/mail/maildir-transport.js';

const database = await createDatabase({ kind: 'pglite', dataDir: process.env.GYM_TEST_DB! });
const transport = createMaildirTransport({ dir: process.env.GYM_TEST_OUTBOX! });
try {
  const digests = digestStore(database.db);
  const deps: DispatchDependencies = {
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
    layouts: storedLayouts(database.db, { validation: 'soft' }),
    digests,
  };
  const ticks = [];
  for (const instant of process.env.GYM_TEST_NOW!.split(',')) {
    const now = new Date(instant);
    const counts = await dispatchTick(deps, now);
    ticks.push({ counts, digests: await digestTick(deps, digests, now) });
  }
  // The first tick's dispatch counts as `counts`, as the single-tick callers read them.
  process.stdout.write(`${JSON.stringify({ counts: ticks[0]!.counts, ticks })}\n`);
} finally {
  await transport.close();
  await database.close();
}
