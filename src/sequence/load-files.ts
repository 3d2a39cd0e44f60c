import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { GymError } from '../errors.js';
import {
  checkAcrossFiles,
  loadSequence,
  refuseIfTooLarge,
  type LoadResult,
  type ReadFile,
} from './loader.js';

/** Where the programmes live unless told otherwise. */
export const defaultSequencePaths = ['sequences'] as const;

/**
 * Loads sequence files from disk: each path is a YAML file or a directory, whose `*.yaml` and
 * `*.yml` files are taken (not its subdirectories, which hold Markdown). Files are loaded
 * together, so ids and `audience.default` are checked across them. Paths in the results are
 * relative to `cwd`. Throws a user error for a path that does not exist or a directory with no
 * sequence files; everything wrong inside a file is a problem in the results instead.
 *
 * @example
 * for (const result of loadSequenceFiles()) if (result.ok) console.log(result.sequence.title, result.hash);
 */
export function loadSequenceFiles(
  paths: readonly string[] = defaultSequencePaths,
  cwd = process.cwd(),
): LoadResult[] {
  const files = paths.flatMap((path) => sequenceFilesAt(path, cwd));
  const unique = [...new Set(files)];
  const readFile: ReadFile = (path) => readTextIfExists(resolve(cwd, path));
  return checkAcrossFiles(
    unique.map((path) => {
      const absolute = resolve(cwd, path);
      // Refused before it is read: a huge file costs nothing but its size.
      return (
        refuseIfTooLarge(path, statSync(absolute).size) ??
        loadSequence(path, readFileSync(absolute, 'utf8'), readFile)
      );
    }),
  );
}

function sequenceFilesAt(path: string, cwd: string): string[] {
  const absolute = resolve(cwd, path);
  const shown = relative(cwd, absolute) || '.';
  let isDirectory: boolean;
  try {
    isDirectory = statSync(absolute).isDirectory();
  } catch (cause) {
    throw new GymError('USAGE', `${shown}: no such file or directory`, { path: shown }, { cause });
  }
  if (!isDirectory) return [shown];
  const names = readdirSync(absolute, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  if (names.length === 0)
    throw new GymError('USAGE', `${shown}: no sequence files (*.yaml) in this directory`, {
      path: shown,
    });
  return names.map((name) => join(shown, name));
}

/** The file's text, or undefined when there is no file to read: the loader reports it as a problem. */
function readTextIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw new GymError(
      'SEQUENCE_INVALID',
      `${path}: cannot be read (${code ?? String(error)})`,
      { path },
      { cause: error },
    );
  }
}
