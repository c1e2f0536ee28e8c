/*
 * What Grafana does to a MySQL panel's rawSql before MariaDB sees it, so the
 * tests can execute every dashboard and alert query exactly as Grafana would:
 * 1. the dashboard's template variables (frontend `templateSrv.replace` with
 *    the SQL data sources' `interpolateVariable`: multi-value or include-all
 *    variables become quoted, comma-separated literals; single-value ones are
 *    inserted raw with `'` doubled; a custom all value, when All is
 *    selected, is inserted as it is);
 * 2. the SQL engine's global substitutions (`$__interval_ms`, `$__interval`,
 *    `$__unixEpochFrom()`, `$__unixEpochTo()`, pkg/tsdb/mysql/sqleng);
 * 3. the MySQL macro engine (pkg/tsdb/mysql/macros.go): `$__time`,
 *    `$__timeEpoch`, `$__timeFilter`, `$__timeFrom`, `$__timeTo`,
 *    `$__timeGroup`, `$__timeGroupAlias`, `$__unixEpochFilter`,
 *    `$__unixEpochNanoFilter/From/To`, `$__unixEpochGroup(Alias)`.
 */

export interface TimeRange {
  /** Epoch ms. */
  readonly from: number;
  readonly to: number;
}

export interface VariableValue {
  readonly multi: boolean;
  readonly includeAll: boolean;
  /** One value, or several (a multi-value selection, or All expanded to every option). */
  readonly value: string | readonly string[];
  /** All is selected and the variable has this custom all value: Grafana inserts it as it is. */
  readonly allValue?: string;
}

export class MacroError extends Error {}

/** Grafana's MySQL data source refuses these (macros.go restrictedRegExp). */
const RESTRICTED = /([\s]*show[\s]+grants|[\s,]session_user\([^)]*\)|[\s,]current_user(\([^)]*\))?|[\s,]system_user\([^)]*\)|[\s,]user\([^)]*\))([\s,;]|$)/im;

const quoteLiteral = (v: string): string => `'${v.replace(/'/g, "''")}'`;

/** Step 1: template variables (`$name`, `${name}`); unknown names (like `$__timeFilter`) are left alone. */
export function interpolateVariables(sql: string, vars: Readonly<Record<string, VariableValue>>): string {
  return sql.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const v = vars[name];
    if (v === undefined) return whole;
    // templateSrv: "skip formatting of custom all values" (then replaced again, for variables inside it).
    if (v.allValue !== undefined) return interpolateVariables(v.allValue, vars);
    if (typeof v.value === 'string') return v.multi || v.includeAll ? quoteLiteral(v.value) : v.value.replace(/'/g, "''");
    return v.value.map(quoteLiteral).join(',');
  });
}

/** gtime.FormatInterval: the largest whole unit. */
export function formatInterval(ms: number): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1_000, 's'],
  ];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return `${ms}ms`;
}

/** gtime.ParseInterval for the forms dashboards use: 10ms, 30s, 5m, 1h, 1d, 1w. */
export function parseInterval(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (m === null) throw new MacroError(`error parsing interval ${text}`);
  const n = Number(m[1]);
  const unit: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
  return n * unit[m[2]!]!;
}

/** Step 2: sqleng.Interpolate. */
export function interpolateGlobal(sql: string, range: TimeRange, intervalMs: number): string {
  return sql
    .replaceAll('$__interval_ms', String(intervalMs))
    .replaceAll('$__interval', formatInterval(intervalMs))
    .replaceAll('$__unixEpochFrom()', String(unix(range.from)))
    .replaceAll('$__unixEpochTo()', String(unix(range.to)));
}

const unix = (ms: number): number => Math.floor(ms / 1000);

/** Step 3: the MySQL macro engine. */
export function interpolateMacros(sql: string, range: TimeRange): string {
  if (RESTRICTED.test(sql)) throw new MacroError('invalid query - show grants, session_user(), current_user(), system_user() or user() are not allowed');
  return sql.replace(/\$([_a-zA-Z0-9]+)\(([^)]*)\)/g, (_whole, name: string, rawArgs: string) => {
    const args = rawArgs.split(',').map((a) => a.trim());
    return evaluate(name, args, range);
  });
}

function evaluate(name: string, args: string[], range: TimeRange): string {
  const col = args[0] ?? '';
  const needCol = (): void => {
    if (col === '') throw new MacroError(`missing time column argument for macro ${name}`);
  };
  const from = unix(range.from);
  const to = unix(range.to);
  switch (name) {
    case '__time':
    case '__timeEpoch':
      needCol();
      return `UNIX_TIMESTAMP(${col}) as time_sec`;
    case '__timeFilter':
      needCol();
      return from < 0
        ? `${col} BETWEEN DATE_ADD(FROM_UNIXTIME(0), INTERVAL ${from} SECOND) AND FROM_UNIXTIME(${to})`
        : `${col} BETWEEN FROM_UNIXTIME(${from}) AND FROM_UNIXTIME(${to})`;
    case '__timeFrom':
      return `FROM_UNIXTIME(${from})`;
    case '__timeTo':
      return `FROM_UNIXTIME(${to})`;
    case '__timeGroup': {
      if (args.length < 2) throw new MacroError(`macro ${name} needs time column and interval`);
      const s = parseInterval(args[1]!.replace(/^['"]|['"]$/g, '')) / 1000;
      return `UNIX_TIMESTAMP(${col}) DIV ${s.toFixed(0)} * ${s.toFixed(0)}`;
    }
    case '__timeGroupAlias':
      return `${evaluate('__timeGroup', args, range)} AS "time"`;
    case '__unixEpochFilter':
      needCol();
      return `${col} >= ${from} AND ${col} <= ${to}`;
    case '__unixEpochNanoFilter':
      needCol();
      return `${col} >= ${BigInt(range.from) * 1_000_000n} AND ${col} <= ${BigInt(range.to) * 1_000_000n}`;
    case '__unixEpochNanoFrom':
      return String(BigInt(range.from) * 1_000_000n);
    case '__unixEpochNanoTo':
      return String(BigInt(range.to) * 1_000_000n);
    case '__unixEpochGroup': {
      if (args.length < 2) throw new MacroError(`macro ${name} needs time column and interval and optional fill value`);
      const s = parseInterval(args[1]!.replace(/^'|'$/g, '')) / 1000;
      return `${col} DIV ${s} * ${s}`;
    }
    case '__unixEpochGroupAlias':
      return `${evaluate('__unixEpochGroup', args, range)} AS "time"`;
    default:
      throw new MacroError(`unknown macro ${name}`);
  }
}

/** All three steps, in Grafana's order. */
export function grafanaInterpolate(rawSql: string, o: { range: TimeRange; intervalMs: number; vars?: Readonly<Record<string, VariableValue>> }): string {
  return interpolateMacros(interpolateGlobal(interpolateVariables(rawSql, o.vars ?? {}), o.range, o.intervalMs), o.range);
}
