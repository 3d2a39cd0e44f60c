/**
 * Text from strangers (a sender's name, a subject) made safe to print on a terminal: control
 * characters, escape sequences and bidirectional overrides could otherwise clear the screen,
 * rewrite earlier lines, retitle the window or make one address look like another (#16).
 */

// C0 controls (ESC among them), DEL, C1 controls (U+009B is a one-character CSI), and the
// bidirectional embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const unprintable = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** One line of text with every control character shown as `?`. */
export function printable(text: string): string {
  return text.replace(unprintable, '?');
}

/**
 * JSON for a terminal: JSON.stringify escapes C0 controls but writes C1 controls and bidi
 * overrides as they are; those are escaped too (`\u009b`), so the data stays exact.
 */
export function printableJson(value: unknown): string {
  return JSON.stringify(value).replace(
    unprintable,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
