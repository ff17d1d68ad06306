/** What the BullMQ workers of this process report, for metrics; the default does nothing. */
export interface JobObserver {
  /** One attempt at a job ended; `final` when it was a failure with no retry left. */
  attempted(queue: string, outcome: 'completed' | 'failed', final: boolean): void;
}

export const NO_JOB_OBSERVER: JobObserver = { attempted: () => undefined };
