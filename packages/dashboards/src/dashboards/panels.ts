import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { VisibilityMode } from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardLinkBuilder,
  DashboardLinkType,
  MappingType,
  type Dashboard,
  type DynamicConfigValue,
  type Panel,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { METRIC_NAMES, METRICS, type MetricName, type MetricUnit } from '@userprobe/shared';
import { DATASOURCE, MysqlQueryBuilder, type QueryFormat } from '../sql/mysql-query.js';

/*
 * What every dashboard's panels share: the query registry the tests read, the
 * grid, the panel builders and the units.
 */

export const TAGS = ['userprobe'];
/** Smallest $__interval Grafana picks for these panels (a few sessions every few minutes). */
export const MIN_INTERVAL = '1m';

/**
 * Grafana's unit for each unit of the metric catalog. `ratio` is the catalog's
 * unit of the layout-shift score (CLS), a unitless number: `percentunit` would
 * show a score of 0.1 as 10 %. Shares computed by the dashboards (failed
 * sessions, saturated samples) are 0–1 ratios and use `percentunit`.
 */
export const GRAFANA_UNITS: Readonly<Record<MetricUnit, string>> = { ms: 'ms', count: 'short', ratio: 'none', fps: 'fps', bytes: 'bytes' };
/** A 0–1 share. */
export const SHARE_UNIT = 'percentunit';
/** A number of things (sessions, rounds, batches). */
export const COUNT_UNIT = 'short';

/** Catalog metrics of one unit, in catalog order. */
export function metricsWithUnit(unit: MetricUnit): MetricName[] {
  return METRIC_NAMES.filter((m) => METRICS[m].unit === unit);
}

/** The units the catalog uses besides ms, each with its metrics. */
export function otherUnits(): Array<{ unit: MetricUnit; metrics: MetricName[] }> {
  const units = [...new Set(METRIC_NAMES.map((m) => METRICS[m].unit))].filter((u) => u !== 'ms');
  return units.map((unit) => ({ unit, metrics: metricsWithUnit(unit) }));
}

/** A regexp matching a series named by one of these metrics (alone or beside a location/scenario word). */
export function seriesOf(metrics: readonly string[]): string {
  return `^(?:.*\\W)?(?:${metrics.join('|')})(?:\\W.*)?$`;
}

/** SQL: the catalog unit of the `metric` column, for tables that mix metrics of several units. */
export function unitCase(column: string): string {
  const byUnit = new Map<MetricUnit, MetricName[]>();
  for (const m of METRIC_NAMES) byUnit.set(METRICS[m].unit, [...(byUnit.get(METRICS[m].unit) ?? []), m]);
  const arms = [...byUnit].map(([unit, ms]) => `WHEN ${column} IN (${ms.map((m) => `'${m}'`).join(', ')}) THEN '${unit}'`);
  return `CASE ${arms.join(' ')} END`;
}

/** One value-to-text mapping with colours, in the order given. */
export function valueMappings(entries: ReadonlyArray<readonly [value: string | number, text: string, color: string]>): ValueMapping[] {
  const options: Record<string, { text: string; color: string; index: number }> = {};
  entries.forEach(([value, text, color], index) => {
    options[String(value)] = { text, color, index };
  });
  return [{ type: MappingType.ValueToText, options }];
}

/** Field overrides that colour a table column's cells by value mappings. */
export function colouredCells(mappings: ValueMapping[]): DynamicConfigValue[] {
  return [
    { id: 'mappings', value: mappings },
    { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } },
  ];
}

export function dashboardLinks(): DashboardLinkBuilder {
  return new DashboardLinkBuilder('userprobe').type(DashboardLinkType.Dashboards).tags(TAGS).asDropdown(true).includeVars(true).keepTime(true);
}

export function ts(title: string, unit: string): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(title)
    .datasource(DATASOURCE)
    .unit(unit)
    .interval(MIN_INTERVAL)
    .lineWidth(1)
    .fillOpacity(5)
    .showPoints(VisibilityMode.Auto)
    .spanNulls(false);
}

/** A table whose numeric columns are counts unless an override says otherwise. */
export function tbl(title: string): table.PanelBuilder {
  return new table.PanelBuilder().title(title).datasource(DATASOURCE).unit(COUNT_UNIT);
}

/**
 * What a panel's query must return, recorded next to the query when the
 * dashboard is generated; the query test executes every one and checks it.
 * Time series: a `time` column (sorted) and these numeric columns.
 * Table: exactly these columns, in this order.
 */
export interface QueryExpectation {
  readonly dashboardUid: string;
  readonly panelTitle: string;
  readonly refId: string;
  readonly format: QueryFormat;
  readonly columns: readonly string[];
}

/** A dashboard as written to grafana/dashboards/<file>, with the expectations of its queries. */
export interface GeneratedDashboard {
  readonly file: string;
  readonly dashboard: Dashboard;
  readonly expectations: readonly QueryExpectation[];
}

/** Collects the expectations of one dashboard while its panels are built. */
export class QueryRegistry {
  readonly expectations: QueryExpectation[] = [];
  constructor(readonly dashboardUid: string) {}

  query(panelTitle: string, rawSql: string, format: QueryFormat, columns: readonly string[], refId = 'A'): MysqlQueryBuilder {
    this.expectations.push({ dashboardUid: this.dashboardUid, panelTitle, refId, format, columns });
    return new MysqlQueryBuilder(rawSql, format, refId);
  }
}

export interface PanelLike extends cog.Builder<Panel> {
  gridPos(pos: { x: number; y: number; w: number; h: number }): this;
}

/** Lays panels out left to right, rows of 24 units. */
export class Grid {
  #x = 0;
  #y = 0;
  #rowH = 0;

  place<T extends PanelLike>(panel: T, w: number, h: number): T {
    if (this.#x + w > 24) {
      this.#x = 0;
      this.#y += this.#rowH;
      this.#rowH = 0;
    }
    panel.gridPos({ x: this.#x, y: this.#y, w, h });
    this.#x += w;
    this.#rowH = Math.max(this.#rowH, h);
    return panel;
  }
}
