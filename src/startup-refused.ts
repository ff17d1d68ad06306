/**
 * A start that must not go ahead, for a reason the operator can fix (a port or data directory in use, a
 * wrong Redis password). main.ts prints the message as it is, without a stack, and exits non-zero.
 */
export class StartupRefused extends Error {
  override name = 'StartupRefused';
}
