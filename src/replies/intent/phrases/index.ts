import { cy } from './cy.js';
import { da } from './da.js';
import { de } from './de.js';
import { en } from './en.js';
import { es } from './es.js';
import { fi } from './fi.js';
import { fr } from './fr.js';
import { it } from './it.js';
import { nl } from './nl.js';
import { no } from './no.js';
import { pt } from './pt.js';
import { sv } from './sv.js';
import type { PhraseTable } from './types.js';

/** Every language's phrase table. English first: it is the language most often mixed in. */
export const phraseTables: readonly PhraseTable[] = [
  en,
  cy,
  fr,
  de,
  es,
  it,
  pt,
  nl,
  sv,
  da,
  no,
  fi,
];
