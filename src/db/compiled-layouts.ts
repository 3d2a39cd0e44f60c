import type { Kysely } from 'kysely';
import type { CompileOptions } from '../render/email.js';
import {
  compileLayoutsSkeleton,
  layoutsFromSkeleton,
  layoutsSkeletonFormat,
  type CompiledLayouts,
  type LayoutsSkeleton,
} from '../render/layouts.js';
import { layoutFilesOf, storedSkeleton, type Layouts } from './compiled-programmes.js';
import type { Database } from './schema.js';

/**
 * Compiled templates are data (#17), for the emails of no programme: acknowledgements, manager
 * digests and introductions. Like a programme version's emails (./compiled-programmes.ts) they
 * are compiled by MJML once, at `gym enrol` or `gym migrate` or, failing that, by the first
 * worker that needs them, and stored (`compiled_layouts`) under the digest of the layout files
 * and the skeleton's format: other workers read them with Liquid alone and never load MJML.
 */

async function readLayouts(
  db: Kysely<Database>,
  layouts: Layouts,
): Promise<LayoutsSkeleton | undefined> {
  const row = await db
    .selectFrom('compiled_layouts')
    .select('skeleton')
    .where('layouts', '=', layouts.digest)
    .where('format', '=', layoutsSkeletonFormat)
    .executeTakeFirst();
  return row === undefined ? undefined : storedSkeleton<LayoutsSkeleton>(row.skeleton);
}

/** Compiles (MJML) and stores the layouts; when workers race, the first insert stays. */
async function compileAndStore(
  db: Kysely<Database>,
  layouts: Layouts,
  options: CompileOptions,
): Promise<LayoutsSkeleton> {
  const skeleton = await compileLayoutsSkeleton({ ...options, layouts: layouts.sources });
  await db
    .insertInto('compiled_layouts')
    .values({
      layouts: layouts.digest,
      format: layoutsSkeletonFormat,
      skeleton: JSON.stringify(skeleton),
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return skeleton;
}

/**
 * A worker's programme-less emails (`DispatchDependencies.layouts`): read once per process from
 * the stored skeleton, compiled and stored when there is none yet. A failed read or compile is
 * not remembered: the next acknowledgement tries again.
 */
export function storedLayouts(
  db: Kysely<Database>,
  options: CompileOptions = {},
): () => Promise<CompiledLayouts> {
  const files = layoutFilesOf(options);
  let compiled: Promise<CompiledLayouts> | undefined;
  return () => {
    if (compiled === undefined) {
      const loading = (async () => {
        const at = await files();
        const skeleton = (await readLayouts(db, at)) ?? (await compileAndStore(db, at, options));
        return layoutsFromSkeleton(skeleton);
      })();
      compiled = loading;
      loading.catch(() => {
        if (compiled === loading) compiled = undefined;
      });
    }
    return compiled;
  };
}

/**
 * Compiles and stores the layouts when learners are enrolled (their replies are acknowledged,
 * their managers get digests) and the current layout files have none stored yet. Run by
 * `gym enrol` and `gym migrate`, beside `precompileProgrammes`. Answers whether it compiled.
 */
export async function precompileLayouts(
  db: Kysely<Database>,
  options: CompileOptions = {},
): Promise<boolean> {
  const enrolled = await db.selectFrom('enrolments').select('id').limit(1).executeTakeFirst();
  if (enrolled === undefined) return false;
  const at = await layoutFilesOf(options)();
  if ((await readLayouts(db, at)) !== undefined) return false;
  await compileAndStore(db, at, options);
  return true;
}
