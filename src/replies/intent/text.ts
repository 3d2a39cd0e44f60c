/** Text helpers shared by the intent reader's parts. */

// ASCII has no decompositions and no marks: both normal forms leave it as it is.
const asciiOnly = /^[^\u0080-\uFFFF]*$/;

/** Lower case, accents removed ("é" is "e"; "æ", "ø" and "ß" are letters of their own). */
export function normalise(line: string): string {
  const unaccented = asciiOnly.test(line)
    ? line
    : line.normalize('NFKD').replace(/\p{M}/gu, '').normalize('NFKC');
  return unaccented
    .toLowerCase()
    .replace(/[’‘`´]/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

/** Alternatives for a regular expression, longest first so that none hides a longer one. */
export function anyOf(...words: string[]): string {
  return [...words].sort((a, b) => b.length - a.length).join('|');
}
