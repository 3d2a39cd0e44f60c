import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { LanguagePreference } from '../language/languages.js';
import type { CompileOptions, LayoutSources } from '../render/email.js';
import { shippedLayoutSources } from '../render/layout-files.js';
import { compiledPreference } from '../render/programme-cache.js';
import {
  compileProgrammeSkeleton,
  programmeFromSkeleton,
  skeletonFormat,
  type CompiledProgramme,
  type ProgrammeSkeleton,
} from '../render/programme.js';
import type { Sequence } from '../sequence/schema.js';
import type { Database } from './schema.js';

/**
 * Compiled templates are data (#17): a programme version's emails are compiled by MJML once, when
 * the version is first stored (`gym enrol`, `gym migrate`) or, failing that, by the first worker
 * that sends it, and stored with the version (`compiled_programmes`). Every other worker reads
 * them and parses their Liquid: it never loads MJML, which is a large part of a process's memory
 * and its start.
 *
 * A stored skeleton is for one set of layout files (their digest is in the key): after an
 * upgrade that changes `emails/`, a version is compiled again with the new layouts.
 */

/** The digest of a set of layout files, as stored beside what was compiled with them. */
export function layoutsDigest(sources: LayoutSources): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(sources).sort()) hash.update(`${name}\0${sources[name]}\0`);
  return hash.digest('hex').slice(0, 32);
}

export interface Layouts {
  readonly sources: LayoutSources;
  readonly digest: string;
}

/** The layout files compiled with and their digest, read once per caller. */
export function layoutFilesOf(options: CompileOptions): () => Promise<Layouts> {
  let layouts: Promise<Layouts> | undefined;
  return () =>
    (layouts ??= (async () => {
      const sources = options.layouts ?? (await shippedLayoutSources());
      return { sources, digest: layoutsDigest(sources) };
    })());
}

async function readSkeleton(
  db: Kysely<Database>,
  versionId: number,
  language: LanguagePreference,
  layouts: Layouts,
): Promise<ProgrammeSkeleton | undefined> {
  const row = await db
    .selectFrom('compiled_programmes')
    .select('skeleton')
    .where('version_id', '=', versionId)
    .where('language', '=', language)
    .where('layouts', '=', layouts.digest)
    .where('format', '=', skeletonFormat)
    .executeTakeFirst();
  return row === undefined ? undefined : storedSkeleton<ProgrammeSkeleton>(row.skeleton);
}

/** A stored skeleton (jsonb) as read back. */
export function storedSkeleton<T>(value: unknown): T {
  // PostgreSQL and PGlite hand jsonb back parsed; a string would be a driver set up otherwise.
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** Compiles (MJML) and stores a version's skeleton; a concurrent compile of the same one wins. */
async function compileAndStore(
  db: Kysely<Database>,
  versionId: number,
  sequence: Sequence,
  language: LanguagePreference,
  layouts: Layouts,
  options: CompileOptions,
): Promise<ProgrammeSkeleton> {
  const skeleton = await compileProgrammeSkeleton(sequence, {
    ...options,
    layouts: layouts.sources,
    language,
  });
  await db
    .insertInto('compiled_programmes')
    .values({
      version_id: versionId,
      language,
      layouts: layouts.digest,
      format: skeletonFormat,
      skeleton: JSON.stringify(skeleton),
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return skeleton;
}

/**
 * A worker's compiled programmes: each (version, language preference) read once per process from
 * its stored skeleton, compiled and stored when there is none yet. The drop-in for
 * `programmeCache` where there is a database. A failed read or compile is not remembered.
 */
export function storedProgrammes(
  db: Kysely<Database>,
  options: CompileOptions = {},
): (
  versionId: number,
  sequence: Sequence,
  language?: LanguagePreference,
) => Promise<CompiledProgramme> {
  const layouts = layoutFilesOf(options);
  const compiled = new Map<string, Promise<CompiledProgramme>>();
  return (versionId, sequence, wanted = 'en') => {
    const language = compiledPreference(sequence, wanted);
    const key = `${versionId}:${language}`;
    let programme = compiled.get(key);
    if (programme === undefined) {
      programme = (async () => {
        const at = await layouts();
        const skeleton =
          (await readSkeleton(db, versionId, language, at)) ??
          (await compileAndStore(db, versionId, sequence, language, at, options));
        return programmeFromSkeleton(skeleton);
      })();
      programme.catch(() => compiled.delete(key));
      compiled.set(key, programme);
    }
    return programme;
  };
}

/**
 * Compiles and stores what the enrolled learners' mail needs and is not stored yet: each
 * programme version with enrolments, in each language preference they have. Run by `gym enrol`
 * and `gym migrate`, so that workers find every skeleton there. Answers how many it compiled.
 */
export async function precompileProgrammes(
  db: Kysely<Database>,
  options: CompileOptions = {},
): Promise<number> {
  const wanted = await db
    .selectFrom('enrolments')
    .innerJoin('sequence_versions', 'sequence_versions.id', 'enrolments.sequence_version_id')
    .select(['enrolments.sequence_version_id as versionId', 'enrolments.language'])
    .distinct()
    .execute();
  if (wanted.length === 0) return 0;
  const layouts = await layoutFilesOf(options)();
  const definitions = new Map<number, Sequence>();
  let compiled = 0;
  const done = new Set<string>();
  for (const { versionId, language } of wanted) {
    let sequence = definitions.get(versionId);
    if (sequence === undefined) {
      const row = await db
        .selectFrom('sequence_versions')
        .select('definition')
        .where('id', '=', versionId)
        .executeTakeFirstOrThrow();
      sequence = row.definition as Sequence;
      definitions.set(versionId, sequence);
    }
    const preference = compiledPreference(sequence, language);
    const key = `${versionId}:${preference}`;
    if (done.has(key)) continue;
    done.add(key);
    if ((await readSkeleton(db, versionId, preference, layouts)) !== undefined) continue;
    await compileAndStore(db, versionId, sequence, preference, layouts, options);
    compiled += 1;
  }
  return compiled;
}
