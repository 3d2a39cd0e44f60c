import { languagesOf, preferenceOf, type LanguagePreference } from '../language/languages.js';
import { offeredLanguages, type Sequence } from '../sequence/schema.js';
import type { CompileOptions } from './email.js';
import { compileProgramme, type CompiledProgramme } from './programme.js';

/**
 * The language preference a programme is compiled in for learners who want `wanted`: what the
 * programme offers of it, else its first language. An English-only programme is compiled once,
 * whoever asks.
 */
export function compiledPreference(
  sequence: Sequence,
  wanted: LanguagePreference = 'en',
): LanguagePreference {
  const offered = offeredLanguages(sequence);
  const kept = languagesOf(wanted).filter((l) => offered.includes(l));
  return preferenceOf(kept.length > 0 ? kept : offered.slice(0, 1));
}

/**
 * Compiles each stored programme version once per process: MJML runs at load, never per
 * recipient. Versions never change once stored, so the id is the key. A failed compile is not
 * remembered: the next delivery of that version tries again.
 */
export function programmeCache(
  options: CompileOptions = {},
): (
  versionId: number,
  sequence: Sequence,
  language?: LanguagePreference,
) => Promise<CompiledProgramme> {
  // By version and language preference: a bilingual programme compiles once for each preference
  // its learners have (cy, en, cy+en), never per learner.
  const compiled = new Map<string, Promise<CompiledProgramme>>();
  return (versionId, sequence, wanted = 'en') => {
    const language = compiledPreference(sequence, wanted);
    const key = `${versionId}:${language}`;
    let programme = compiled.get(key);
    if (programme === undefined) {
      programme = compileProgramme(sequence, { ...options, language });
      programme.catch(() => compiled.delete(key));
      compiled.set(key, programme);
    }
    return programme;
  };
}
