import type { Job, Queue } from 'bullmq';

/** A background job's state as the HTTP APIs name it. */
export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'unknown';

/** BullMQ's states as the APIs name them (priority and parent waits are still waiting). */
const STATES: Record<string, JobState> = {
  waiting: 'waiting',
  prioritized: 'waiting',
  'waiting-children': 'waiting',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
  delayed: 'delayed',
};

export const jobStateOf = (bullState: string): JobState => STATES[bullState] ?? 'unknown';

/**
 * A job and its state, read so that they agree. The job hash is read before the state: a job that
 * finished in between would otherwise say "completed" with the progress and result of before (no
 * returnvalue, no finishedOn). A finished job is therefore read once more; its hash holds the outcome
 * once the state says it finished.
 */
export async function jobSnapshot<T>(
  queue: Queue<T>,
  id: string,
): Promise<{ job: Job<T>; state: string } | undefined> {
  const job: Job<T> | undefined = (await queue.getJob(id)) as Job<T> | undefined;
  if (!job) return undefined;
  const state = await job.getState();
  if (state !== 'completed' && state !== 'failed') return { job, state };
  const again = (await queue.getJob(id)) as Job<T> | undefined;
  return { job: again ?? job, state };
}
