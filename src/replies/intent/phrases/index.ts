import { en } from './en.js';
import type { PhraseTable } from './types.js';

/** Every language's phrase table. English first: it is the most common mixed-in language. */
export const phraseTables: readonly PhraseTable[] = [en];
