/** Why a long-running command was asked to stop. */
export type StopReason = 'SIGTERM' | 'SIGINT' | 'parent exited';

export interface StopRequests {
  /** Resolves with the first request to stop. */
  readonly requested: Promise<StopReason>;
  /** True once a stop was requested: loops check it before claiming more work. */
  readonly isRequested: () => boolean;
  /** Removes the listeners (the command ended on its own). */
  dispose(): void;
}

/**
 * The ways `gym run` is told to stop: SIGTERM (docker stop, systemd, kill), SIGINT (Ctrl+C), and
 * its parent going away. The last covers wrappers that do not pass signals on: `npx gym run` is
 * npm, then `sh -c gym run`, then this process; a SIGTERM to npm reaches the shell, which dies
 * without passing it on, and this process would be left sending, an orphan re-parented to init.
 * Node has no parent-death signal, so the parent's pid is checked every `intervalMs`.
 *
 * Each signal is taken once: a second Ctrl+C ends the process at once, as a person expects.
 */
export function stopRequests(options: { intervalMs?: number } = {}): StopRequests {
  let stopped: StopReason | undefined;
  let resolve: (reason: StopReason) => void = () => {};
  const requested = new Promise<StopReason>((r) => (resolve = r));
  const stop = (reason: StopReason) => {
    stopped ??= reason;
    resolve(stopped);
  };
  const onTerm = () => stop('SIGTERM');
  const onInt = () => stop('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(watch);
      stop('parent exited');
    }
  }, options.intervalMs ?? 1000);
  watch.unref();
  return {
    requested,
    isRequested: () => stopped !== undefined,
    dispose() {
      clearInterval(watch);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    },
  };
}
