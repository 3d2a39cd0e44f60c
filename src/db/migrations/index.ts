import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.js';
import * as replies from './0002-replies.js';
import * as suppressions from './0003-suppressions.js';
import * as leases from './0004-leases.js';
import * as sendQuotas from './0005-send-quotas.js';
import * as workerTicks from './0006-worker-ticks.js';
import * as dataRights from './0008-data-rights.js';
import * as journey from './0009-journey.js';
import * as languages from './0010-languages.js';
import * as intake from './0011-intake.js';
import * as compiledProgrammes from './0013-compiled-programmes.js';
import * as compiledLayouts from './0014-compiled-layouts.js';
import * as claimInOrder from './0015-claim-in-order.js';

/**
 * Every migration, by name, in order. Listed statically rather than read from the folder so the
 * same list works from TypeScript sources (tsx) and the compiled `dist/`. Add new ones at the end
 * with the next number; never edit one that has shipped.
 */
const migrations: Readonly<Record<string, Migration>> = {
  '0001-initial': initial,
  '0002-replies': replies,
  '0003-suppressions': suppressions,
  '0004-leases': leases,
  '0005-send-quotas': sendQuotas,
  '0006-worker-ticks': workerTicks,
  '0008-data-rights': dataRights,
  '0009-journey': journey,
  '0010-languages': languages,
  '0011-intake': intake,
  '0013-compiled-programmes': compiledProgrammes,
  '0014-compiled-layouts': compiledLayouts,
  '0015-claim-in-order': claimInOrder,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve({ ...migrations }),
};
