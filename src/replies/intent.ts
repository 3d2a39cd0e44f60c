/**
 * What a learner's reply asks for. The reader lives in ./intent/: the grammar (how a reading is
 * made and how sure it is), the phrase tables per language (data) and the dates. This module is
 * what the rest of the product imports.
 */
import type { Intent } from './types.js';
import { readIntent, type ReadOptions } from './intent/grammar.js';

export { meansUnsubscribe, readIntent, type IntentReading } from './intent/grammar.js';

/**
 * The intent alone of `readIntent`: what a reply's visible text (quoted history already removed)
 * asks for. Dates without a year are read relative to `sentAt`, in `timeZone`.
 */
export function parseIntent(text: string, options: ReadOptions): Intent {
  return readIntent(text, options).intent;
}
