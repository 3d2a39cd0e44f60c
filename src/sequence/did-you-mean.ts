/**
 * The candidate closest to a misspelt word, if one is close enough to be what the trainer meant:
 * `didYouMean('frist_name', ['first_name', 'last_name'])` is `'first_name'`.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  // Short words allow one slip, longer ones two: "wedn" → "wed", "frist_name" → "first_name".
  const allowed = word.length <= 4 ? 1 : 2;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= allowed && (best === undefined || distance < best.distance))
      best = { candidate, distance };
  }
  return best?.candidate;
}

/**
 * Edits (insert, delete, change, swap two neighbours) to turn `a` into `b`: swapping counts as
 * one, because transposed letters are the commonest typo ("frist").
 */
function editDistance(a: string, b: string): number {
  // d[i][j] is the distance between the first i letters of a and the first j letters of b.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]![j]!;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, at(i - 2, j - 2) + 1);
      d[i]![j] = value;
    }
  }
  return at(a.length, b.length);
}
