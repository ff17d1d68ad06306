/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: it throws on anything a
 * Prometheus server would reject or that breaks the format's rules (a sample before its TYPE, a family
 * declared twice, a malformed name, label or value, a repeated series, histogram buckets that are not
 * cumulative or whose +Inf bucket is not the count).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const fail = (line: number, why: string): never => {
    throw new Error(`line ${line}: ${why}`);
  };
  if (text.length > 0 && !text.endsWith('\n')) fail(0, 'the exposition must end with a newline');
  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (!meta) return; // a plain comment
      const [, kind, name, rest = ''] = meta as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) fail(n, `bad metric name ${name}`);
      const family = families.get(name) ?? { name, type: 'untyped' as const, help: '', samples: [] };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) fail(n, `bad type ${rest}`);
        if (family.samples.length > 0) fail(n, `TYPE of ${name} after its samples`);
        if (seen.has(`type:${name}`)) fail(n, `TYPE of ${name} given twice`);
        seen.add(`type:${name}`);
        family.type = rest as Family['type'];
      } else {
        if (seen.has(`help:${name}`)) fail(n, `HELP of ${name} given twice`);
        seen.add(`help:${name}`);
        family.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      families.set(name, family);
      return;
    }
    const sample = parseSample(raw, n, fail);
    const family = familyOf(families, sample.name);
    if (!family) fail(n, `sample ${sample.name} has no TYPE`);
    const series = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(series)) fail(n, `series ${series} repeated`);
    seen.add(series);
    (family as Family).samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function familyOf(families: Map<string, Family>, name: string): Family | undefined {
  const exact = families.get(name);
  if (exact && exact.type !== 'histogram' && exact.type !== 'summary') return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = families.get(name.slice(0, -suffix.length));
    if (base && (base.type === 'histogram' || (base.type === 'summary' && suffix !== '_bucket'))) return base;
  }
  return exact?.type === 'summary' ? exact : undefined;
}

function parseSample(raw: string, n: number, fail: (line: number, why: string) => never): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
  if (!nameMatch) fail(n, `bad sample line: ${raw}`);
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (raw[pos] === '{') {
    pos++;
    while (raw[pos] !== '}') {
      const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(raw.slice(pos));
      if (!label) fail(n, `bad label at column ${pos}: ${raw}`);
      const labelName = label[1] as string;
      if (!LABEL_NAME.test(labelName) || labelName in labels) fail(n, `bad or repeated label ${labelName}`);
      pos += label[0].length;
      let value = '';
      for (;;) {
        const c = raw[pos];
        if (c === undefined) fail(n, 'unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          const next = raw[pos + 1];
          if (next === 'n') value += '\n';
          else if (next === '\\' || next === '"') value += next;
          else fail(n, `bad escape \\${next ?? ''}`);
          pos += 2;
          continue;
        }
        if (c === '\n') fail(n, 'newline in a label value');
        value += c;
        pos++;
      }
      labels[labelName] = value;
      pos++;
      if (raw[pos] === ',') pos++;
      else if (raw[pos] !== '}') fail(n, `expected , or } at column ${pos}`);
    }
    pos++;
  }
  const rest = raw.slice(pos);
  const parts = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (!parts) fail(n, `bad value part "${rest}"`);
  const text = parts[1] as string;
  // Prometheus reads values with Go's ParseFloat, so NaN and Inf in any case (prom-client writes "Nan" for
  // the event-loop lag figures before their first sample).
  const isNaNText = text.toLowerCase() === 'nan';
  const value = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : isNaNText ? NaN : Number(text);
  if (Number.isNaN(value) && !isNaNText) fail(n, `bad value ${text}`);
  if (!/^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|inf|nan)$/i.test(text))
    fail(n, `bad value ${text}`);
  return { name, labels, value };
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      group.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    } else if (s.name.endsWith('_count')) group.count = s.value;
    groups.set(key, group);
  }
  for (const [key, group] of groups) {
    const sorted = [...group.buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++)
      if ((sorted[i] as [number, number])[1] < (sorted[i - 1] as [number, number])[1])
        throw new Error(`${family.name}${key}: buckets are not cumulative`);
    const last = sorted[sorted.length - 1];
    if (!last || last[0] !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (group.count !== last[1]) throw new Error(`${family.name}${key}: +Inf bucket is not the count`);
  }
}

/** The value of one series (labels must match exactly those given, among others), or undefined. */
export function valueOf(
  families: Map<string, Family>,
  sampleName: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name !== sampleName) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}

/** The sum over every series of a sample name whose labels include `labels`. */
export function sumOf(
  families: Map<string, Family>,
  sampleName: string,
  labels: Record<string, string> = {},
): number {
  let total = 0;
  for (const family of families.values())
    for (const s of family.samples)
      if (s.name === sampleName && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        total += s.value;
  return total;
}
