import { relative } from 'node:path';
import { GymError, messageOf } from '../errors.js';
import { compileProgramme, readLayoutSources, type CompiledProgramme } from '../render/index.js';
import { loadSequenceFiles } from '../sequence/load-files.js';
import type { Sequence } from '../sequence/schema.js';

export type LoadedProgramme =
  | {
      readonly ok: true;
      readonly path: string;
      readonly sequence: Sequence;
      readonly hash: string;
      readonly compiled: CompiledProgramme;
    }
  | {
      readonly ok: false;
      readonly path: string;
      readonly id: string | undefined;
      readonly problems: readonly string[];
    };

/**
 * Loads, validates and compiles programmes as a trainer's tools need them: every file comes
 * back, the broken ones with their problems as `file:line:col message` lines, so one bad file
 * never hides the others. Only an unusable path throws.
 */
export async function loadProgrammes(
  paths: readonly string[],
  options: { cwd?: string; layoutDir?: string } = {},
): Promise<LoadedProgramme[]> {
  const cwd = options.cwd ?? process.cwd();
  const layouts = await readLayoutSources(options.layoutDir);
  const results = loadSequenceFiles(paths, cwd);
  // Paths as the trainer typed them: relative to where they are, absolute when outside it.
  const shown = (file: string) => {
    const path = relative(cwd, file);
    return path === '' || path.startsWith('..') ? file : path;
  };
  return Promise.all(
    results.map(async (result): Promise<LoadedProgramme> => {
      const path = shown(result.path);
      if (!result.ok) {
        return {
          ok: false,
          path,
          id: result.id,
          problems: result.problems.map(
            (p) => `${shown(p.file)}:${p.line}:${p.column} ${p.message}`,
          ),
        };
      }
      try {
        // Soft: a layout warning must not hide the preview; strict validation runs in the tests.
        const compiled = await compileProgramme(result.sequence, { layouts, validation: 'soft' });
        return { ok: true, path, sequence: result.sequence, hash: result.hash, compiled };
      } catch (error) {
        const problems =
          error instanceof GymError && Array.isArray(error.details.problems)
            ? (error.details.problems as string[]).map((p) => `${path}: ${p}`)
            : [`${path}: ${messageOf(error)}`];
        return { ok: false, path, id: result.sequence.id, problems };
      }
    }),
  );
}

/** Finds a programme by id or by file path, for `gym preview ID` and `gym render ID`. */
export function findProgramme(
  programmes: readonly LoadedProgramme[],
  wanted: string,
): LoadedProgramme | undefined {
  return programmes.find(
    (p) =>
      p.path === wanted ||
      (p.ok ? p.sequence.id === wanted : p.id === wanted) ||
      p.path.endsWith(`/${wanted}`),
  );
}
