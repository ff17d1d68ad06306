/**
 * Long index work (capturing, encoding or restoring a snapshot of a million documents) runs in slices:
 * between slices it lets the event loop serve other requests, so no request waits for the whole job.
 */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs a generator to its end, yielding to the event loop at each of its own yields. */
export async function inSlices<T>(work: Generator<undefined, T>): Promise<T> {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
    await nextTurn();
  }
}
