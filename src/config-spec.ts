/**
 * Parsers for environment variables. Each returns the parsed value or throws a `ConfigProblem` with a
 * sentence that says what was expected; config.ts collects every problem before failing, so one start
 * reports all mistakes at once.
 */
export class ConfigProblem extends Error {}

export type Env = Readonly<Record<string, string | undefined>>;

export function str(value: string): string {
  return value;
}

export function int(min: number, max: number) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new ConfigProblem(`expected an integer, got "${value}"`);
    const n = Number(value);
    if (n < min || n > max) throw new ConfigProblem(`expected an integer from ${min} to ${max}, got ${n}`);
    return n;
  };
}

export function num(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n))
      throw new ConfigProblem(`expected a number, got "${value}"`);
    if (n < min || n > max) throw new ConfigProblem(`expected a number from ${min} to ${max}, got ${n}`);
    return n;
  };
}

export function oneOf<const T extends string>(...allowed: T[]) {
  return (value: string): T => {
    const v = value.trim().toLowerCase();
    if (!(allowed as string[]).includes(v)) {
      throw new ConfigProblem(`expected one of ${allowed.join(', ')}, got "${value}"`);
    }
    return v as T;
  };
}

export function bool(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigProblem(`expected true or false, got "${value}"`);
}

export function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Documentation for one variable: the README's configuration table is checked against these. */
export interface VarDoc {
  name: string;
  aliases?: string[];
  default: string;
  description: string;
}
