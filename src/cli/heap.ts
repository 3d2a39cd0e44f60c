import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keeps a long bulk command's heap near what it really holds. Streaming a 100,000-row cohort
 * keeps about 50 MB alive, but V8 lets the old space fill with garbage to several times that
 * before it collects, so the process grows to 300 MB and more for nothing (#16). A command that
 * streams calls the returned function now and then (between batches); once the heap holds more
 * than `limitBytes`, it runs a full collection. Jest's leak detector reaches the collector the
 * same way: expose it, then take it from a fresh context.
 */
export function heapKeeper(limitBytes: number): () => void {
  let collect: (() => void) | undefined;
  return () => {
    if (getHeapStatistics().used_heap_size < limitBytes) return;
    if (collect === undefined) {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
    collect();
  };
}
