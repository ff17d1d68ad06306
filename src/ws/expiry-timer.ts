/** setTimeout's delay is a signed 32-bit millisecond count: longer delays fire at once, so they are chained. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Calls `fire` once the clock reaches `at` (ms since the epoch), however far away that is; at once (on the
 * next tick) when it has passed. Returns the cancel function. The timer never keeps the process alive.
 */
export function callAt(at: number, fire: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const delay = Math.max(0, at - Date.now());
    timer = setTimeout(delay > MAX_TIMEOUT_MS ? arm : fire, Math.min(delay, MAX_TIMEOUT_MS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
