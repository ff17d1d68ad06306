/**
 * A small reader of the Prometheus text exposition format (version 0.0.4): enough to chart what /metrics
 * says. Each sample is `name{label="value",...} number [timestamp]`; `# HELP` / `# TYPE` lines describe
 * families. Values of one family are summed across label sets for the console's overview.
 */
export interface Family {
  name: string;
  type: string;
  help: string;
  /** Sum over every series of the family (histogram buckets left out; _sum and _count are their own). */
  total: number;
  series: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+\S+)?$/;

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const types = new Map<string, string>();
  const helps = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const [, keyword, name, ...rest] = line.split(/\s+/);
      if (keyword === 'TYPE' && name) types.set(name, rest[0] ?? 'untyped');
      if (keyword === 'HELP' && name) helps.set(name, rest.join(' '));
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const [, name = '', , valueText = ''] = match;
    if (name.endsWith('_bucket')) continue;
    const value = Number(valueText);
    if (!Number.isFinite(value)) continue;
    const base = name.replace(/_(sum|count|total)$/, '');
    const family = families.get(name) ?? {
      name,
      type: types.get(name) ?? types.get(base) ?? 'untyped',
      help: helps.get(name) ?? helps.get(base) ?? '',
      total: 0,
      series: 0,
    };
    family.total += value;
    family.series++;
    families.set(name, family);
  }
  return families;
}
