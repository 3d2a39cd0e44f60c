import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LayoutSources } from './email.js';

/**
 * Reading `emails/` is the renderer's only I/O, done once at load time; everything downstream
 * takes the sources as plain strings, so tests and the preview server can pass their own.
 */

/** The shipped `emails/` folder (the same relative path from `src/render/` and `dist/render/`). */
export const defaultLayoutDir = fileURLToPath(new URL('../../emails/', import.meta.url));

/**
 * Every `.mjml` and `.txt` file under `dir`, keyed by its path relative to `dir` with forward
 * slashes: `learner-step.mjml`, `partials/footer.txt`.
 */
export async function readLayoutSources(dir: string = defaultLayoutDir): Promise<LayoutSources> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const sources: Record<string, string> = {};
  for (const entry of entries) {
    if (!entry.isFile() || !/\.(mjml|txt)$/.test(entry.name)) continue;
    const file = path.join(entry.parentPath, entry.name);
    sources[path.relative(dir, file).split(path.sep).join('/')] = await readFile(file, 'utf8');
  }
  return sources;
}

let shipped: Promise<LayoutSources> | undefined;

/** The shipped layouts, read once per process. */
export function shippedLayoutSources(): Promise<LayoutSources> {
  // A failed read is not remembered: the next caller tries again.
  shipped ??= readLayoutSources().catch((error: unknown) => {
    shipped = undefined;
    throw error;
  });
  return shipped;
}
