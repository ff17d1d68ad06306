/**
 * CORS: `*` allows any origin (without credentials, which bearer tokens do not need); a list allows exactly
 * those origins and answers with the request's origin and `Vary: Origin`.
 */
export const EXPOSED_HEADERS =
  'X-Request-Id, X-Latency-Ms, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, X-Mnemo-Ignored-Fields';
export const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Request-Id, X-Mnemo-Org';

export class CorsPolicy {
  private readonly any: boolean;
  private readonly origins: Set<string>;

  constructor(origins: readonly string[]) {
    this.any = origins.includes('*');
    this.origins = new Set(origins.map((o) => o.replace(/\/$/, '')));
  }

  /** Whether requests from `origin` are allowed (MCP refuses the others: DNS-rebinding protection). */
  allows(origin: string): boolean {
    return this.any || this.origins.has(origin.replace(/\/$/, ''));
  }

  /** Headers for a response to a request from `origin` (empty when the origin is not allowed). */
  responseHeaders(origin: string | undefined): [string, string][] {
    if (this.any)
      return [
        ['Access-Control-Allow-Origin', '*'],
        ['Access-Control-Expose-Headers', EXPOSED_HEADERS],
      ];
    if (origin && this.origins.has(origin)) {
      return [
        ['Access-Control-Allow-Origin', origin],
        ['Vary', 'Origin'],
        ['Access-Control-Expose-Headers', EXPOSED_HEADERS],
      ];
    }
    return this.origins.size > 0 ? [['Vary', 'Origin']] : [];
  }

  /** Headers a preflight answer adds to `responseHeaders` for a path that supports `methods`. */
  preflightHeaders(
    origin: string | undefined,
    methods: string[],
    requestedHeaders: string | undefined,
  ): [string, string][] {
    if (!this.any && !(origin && this.origins.has(origin))) return [];
    return [
      ['Access-Control-Allow-Methods', [...methods, 'OPTIONS'].join(', ')],
      ['Access-Control-Allow-Headers', requestedHeaders || ALLOWED_HEADERS],
      ['Access-Control-Max-Age', '600'],
    ];
  }
}
