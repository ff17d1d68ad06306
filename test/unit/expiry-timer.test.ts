import { afterEach, describe, expect, it, vi } from 'vitest';
import { callAt } from '../../src/ws/expiry-timer.js';

describe('callAt', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires at a time beyond setTimeout’s 2^31 ms range, not before', () => {
    vi.useFakeTimers();
    const fire = vi.fn();
    const far = 2 ** 31 + 5_000;
    callAt(Date.now() + far, fire);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(far - (2 ** 31 - 1) - 1);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('fires at once for a time already past, and never once cancelled', () => {
    vi.useFakeTimers();
    const past = vi.fn();
    callAt(Date.now() - 1000, past);
    vi.advanceTimersByTime(0);
    expect(past).toHaveBeenCalledTimes(1);
    const cancelled = vi.fn();
    const cancel = callAt(Date.now() + 1000, cancelled);
    cancel();
    vi.advanceTimersByTime(2000);
    expect(cancelled).not.toHaveBeenCalled();
  });
});
