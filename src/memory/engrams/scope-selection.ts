import type { ScopeAccess } from './access.js';
import { isScopeWithin, parseScope } from './scopes.js';

/**
 * Which scopes a read covers (GET /engrams?scope=, recall's `scopes`, inject's `scope`/`scopes`). A
 * requested scope covers itself and every scope below it (plur.md §1.5 isScopeWithin:
 * `group:acme/platform` covers `group:acme/platform/db` and `project:...` paths do likewise), exactly as a
 * membership of a group covers its sub-groups. A request never widens access: a requested scope the
 * caller cannot read is dropped (and reported by recall), and every covered scope must itself be readable.
 * No request means every readable scope.
 */
export interface ScopeSelection {
  /** The readable requested scopes, canonical and deduplicated (all readable scopes when none were named). */
  readonly effective: readonly string[];
  /** Requested scopes that are malformed or unreadable, as given. */
  readonly dropped: readonly string[];
  /** Whether an engram of `scope` is within the selection. */
  readonly covers: (scope: string) => boolean;
}

export function selectScopes(
  access: ScopeAccess,
  org: string,
  requested: readonly string[] | undefined,
): ScopeSelection {
  if (requested === undefined)
    return { effective: access.readableScopes, dropped: [], covers: (scope) => access.canRead(scope) };
  const effective: string[] = [];
  const dropped: string[] = [];
  for (const raw of requested) {
    const scope = parseScope(raw, org);
    if (scope && access.canRead(scope.text)) {
      if (!effective.includes(scope.text)) effective.push(scope.text);
    } else if (!dropped.includes(raw)) dropped.push(raw);
  }
  // One answer per distinct scope: a read tests every engram of the organisation against it.
  const answers = new Map<string, boolean>();
  const covers = (scope: string): boolean => {
    let answer = answers.get(scope);
    if (answer === undefined) {
      answer = effective.some((root) => isScopeWithin(scope, root)) && access.canRead(scope);
      answers.set(scope, answer);
    }
    return answer;
  };
  return { effective, dropped, covers };
}
