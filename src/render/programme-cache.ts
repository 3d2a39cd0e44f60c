import type { Sequence } from '../sequence/schema.js';
import type { CompileOptions } from './email.js';
import { compileProgramme, type CompiledProgramme } from './programme.js';

/**
 * Compiles each stored programme version once per process: MJML runs at load, never per
 * recipient. Versions never change once stored, so the id is the key. A failed compile is not
 * remembered: the next delivery of that version tries again.
 */
export function programmeCache(
  options: CompileOptions = {},
): (versionId: number, sequence: Sequence) => Promise<CompiledProgramme> {
  const compiled = new Map<number, Promise<CompiledProgramme>>();
  return (versionId, sequence) => {
    let programme = compiled.get(versionId);
    if (programme === undefined) {
      programme = compileProgramme(sequence, options);
      programme.catch(() => compiled.delete(versionId));
      compiled.set(versionId, programme);
    }
    return programme;
  };
}
