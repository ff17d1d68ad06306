import { MnemoError, isMnemoError } from '../errors.js';
import type { Keys } from '../redis/keys.js';
import type { Scripts } from '../redis/scripts.js';

export interface AuthFailureSettings {
  /** Failures one address may have back to back; 0 turns the limit off. */
  burst: number;
  /** After the burst, one more failure is allowed every this many milliseconds. */
  refillMs: number;
}

/** What the HTTP server and the event-stream handshake ask of the limiter. */
export interface AuthFailureGate {
  /** Throws the 429 without I/O when this instance already knows the address is over its budget. */
  refuseIfBlocked(address: string): void;
  /** The answer to a refused credential: `refusal` itself, or a 429 once the address is over its budget. */
  answerFailure(address: string, refusal: unknown): Promise<unknown>;
}

/** Addresses remembered as blocked on this instance, at most (the oldest are forgotten first). */
const MAX_REMEMBERED = 10_000;

/**
 * Failed authentications are limited per client address (the socket's peer: behind a proxy, the proxy's),
 * so keys cannot be guessed at line rate. The budget is kept in Redis and counted by one atomic script
 * (lua/authFailure-1.lua), so every instance shares it. Successes cost nothing: a request with a good
 * credential never touches the budget, except while its address is blocked.
 *
 * An instance that learns an address is over budget remembers it until its retry time and refuses that
 * address's requests from then on without evaluating their credential, so a blocked guesser cannot tell a
 * right guess from a wrong one; another instance evaluates at most one more attempt before it learns too.
 */
export class AuthFailureLimiter implements AuthFailureGate {
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly scripts: Scripts,
    private readonly keys: Keys,
    private readonly settings: AuthFailureSettings,
  ) {}

  refuseIfBlocked(address: string): void {
    const until = this.blockedUntil.get(address);
    if (until === undefined) return;
    const waitMs = until - Date.now();
    if (waitMs > 0) throw tooManyFailures(waitMs);
    this.blockedUntil.delete(address);
  }

  async answerFailure(address: string, refusal: unknown): Promise<unknown> {
    if (this.settings.burst === 0 || !(isMnemoError(refusal) && refusal.code === 'unauthorized'))
      return refusal;
    let allowed: number;
    let retryAfterMs: number;
    try {
      [allowed, retryAfterMs] = await this.scripts.run<[number, number]>(
        'authFailure',
        [this.keys.authFailures(address)],
        [this.settings.burst, this.settings.refillMs],
      );
    } catch {
      // Redis unreachable: the refusal stands on its own (a 401 must not turn into a 503 because of this).
      return refusal;
    }
    if (allowed === 1) return refusal;
    if (this.blockedUntil.size >= MAX_REMEMBERED) {
      const oldest = this.blockedUntil.keys().next();
      if (!oldest.done) this.blockedUntil.delete(oldest.value);
    }
    this.blockedUntil.set(address, Date.now() + retryAfterMs);
    return tooManyFailures(retryAfterMs);
  }
}

function tooManyFailures(waitMs: number): MnemoError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new MnemoError(
    'rate_limited',
    `Too many failed authentications from this address; retry in ${seconds} s`,
    { headers: { 'Retry-After': String(seconds) } },
  );
}
