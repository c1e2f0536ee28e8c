import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { MysqlQueryBuilder, type QueryFormat } from './mysql-query.js';

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
