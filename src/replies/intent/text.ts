/** Text helpers shared by the intent reader's parts. */

/** Lower case, accents removed ("é" is "e"; "æ", "ø" and "ß" are letters of their own). */
export function normalise(line: string): string {
  return line
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[’‘`´]/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

/** Alternatives for a regular expression, longest first so that none hides a longer one. */
export function anyOf(...words: string[]): string {
  return [...words].sort((a, b) => b.length - a.length).join('|');
}
