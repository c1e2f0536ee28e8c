/*
 * A reader of the Prometheus text exposition format (version 0.0.4), enough
 * for the tests: `# HELP` / `# TYPE` lines and samples `name{l="v",…} value`
 * with escaped label values. prom-client writes the format but has no parser;
 * a line this reader does not understand fails the test that scraped it.
 */
export interface ExpoSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly samples: readonly ExpoSample[];
  /** Metric family name → counter, gauge, histogram, … */
  readonly types: ReadonlyMap<string, string>;
  readonly help: ReadonlyMap<string, string>;
  /** The value of the sample with exactly these labels, or undefined. */
  value(name: string, labels?: Readonly<Record<string, string>>): number | undefined;
  /** Every sample of `name` whose labels include `labels`. */
  select(name: string, labels?: Readonly<Record<string, string>>): readonly ExpoSample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

export function parseExposition(text: string): Exposition {
  const samples: ExpoSample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'HELP' ? help : types).set(meta[2]!, meta[3]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`exposition line ${i + 1} is not a sample: ${line}`);
    samples.push({ name: m[1]!, labels: parseLabels(m[2] ?? '', i + 1), value: parseValue(m[3]!, i + 1) });
  }
  const matches = (s: ExpoSample, labels: Readonly<Record<string, string>>) => Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  return {
    samples,
    types,
    help,
    value(name, labels = {}) {
      return samples.find((s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length && matches(s, labels))?.value;
    },
    select: (name, labels = {}) => samples.filter((s) => s.name === name && matches(s, labels)),
  };
}

function parseLabels(text: string, line: number): Record<string, string> {
  const out: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const at = LABEL.lastIndex;
    const m = LABEL.exec(text);
    if (!m) throw new Error(`exposition line ${line}: bad labels at ${at}: ${text}`);
    out[m[1]!] = m[2]!.replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c));
  }
  return out;
}

/** Go's ParseFloat, as Prometheus reads it: Inf and NaN in any case (prom-client writes `Nan` for an empty event-loop histogram). */
function parseValue(text: string, line: number): number {
  const special = text.toLowerCase();
  if (special === '+inf' || special === 'inf') return Infinity;
  if (special === '-inf') return -Infinity;
  if (special === 'nan') return NaN;
  const v = Number(text);
  if (Number.isNaN(v)) throw new Error(`exposition line ${line}: not a number: ${text}`);
  return v;
}
