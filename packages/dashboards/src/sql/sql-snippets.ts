/*
 * SQL building blocks shared by dashboards and alert rules. Percentiles are
 * nearest-rank with window functions (MySQL 8, MariaDB 10.2+), computed the
 * same way as packages/shared/src/percentiles.ts and the rollup job.
 */

/** `MIN(CASE WHEN rn >= CEIL(p * cnt) THEN value END)`: the nearest-rank percentile of a group. */
export function pct(p: number, alias: string): string {
  return `MIN(CASE WHEN rn >= CEIL(${(p / 100).toFixed(2)}e0 * cnt) THEN value END) AS ${alias}`;
}

/** Window columns rn/cnt ranking `value` within `partition`. */
export function rankWindow(partition: string): string {
  return `ROW_NUMBER() OVER (PARTITION BY ${partition} ORDER BY value) AS rn, COUNT(*) OVER (PARTITION BY ${partition}) AS cnt`;
}

/**
 * Failed ÷ (ok + failed) sessions of a group, by their status column; aborted
 * sessions (a run stopped by its operator or the daemon) are neither. NULL
 * when the group has none.
 */
export function failedShare(statusColumn: string): string {
  return `SUM(${statusColumn} = 'failed') * 1e0 / NULLIF(SUM(${statusColumn} <> 'aborted'), 0)`;
}

/** Strips the indentation of a template literal so the stored SQL reads well in Grafana's editor. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = raw.replace(/^\n/, '').replace(/\s+$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
