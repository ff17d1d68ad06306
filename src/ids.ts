import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * A ULID in lower case: 10 characters of millisecond time then 16 random ones, so ids sort by creation time.
 * Monotonic within one process: ids minted in the same millisecond still sort in minting order.
 */
let lastTime = -1;
let lastRandom: number[] = [];

export function ulid(now = Date.now()): string {
  let random: number[];
  if (now <= lastTime) {
    random = incrementBase32(lastRandom);
    now = lastTime;
  } else {
    const bytes = randomBytes(16);
    random = Array.from(bytes, (b) => b & 31);
  }
  lastTime = now;
  lastRandom = random;
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time + random.map((d) => CROCKFORD[d]).join('');
}

function incrementBase32(digits: number[]): number[] {
  const next = digits.slice();
  for (let i = next.length - 1; i >= 0; i--) {
    const d = next[i] as number;
    if (d < 31) {
      next[i] = d + 1;
      return next;
    }
    next[i] = 0;
  }
  return next;
}

/** `prefix_<ulid>`, the shape of every server-assigned id (key_…, mem_…). */
export const prefixedId = (prefix: string): string => `${prefix}_${ulid()}`;

export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');
