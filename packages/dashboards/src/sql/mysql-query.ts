import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/dashboard';

/** The provisioned MySQL data source every panel and alert rule queries. */
export const DATASOURCE_UID = 'userprobe-mysql';
export const DATASOURCE: DataSourceRef = { type: 'mysql', uid: DATASOURCE_UID };

export type QueryFormat = 'time_series' | 'table';

/** A raw-SQL query of Grafana's MySQL data source (the SDK has no MySQL query type; this is its JSON model). */
export interface MysqlQuery extends cog.Dataquery {
  refId: string;
  datasource: DataSourceRef;
  rawSql: string;
  format: QueryFormat;
  rawQuery: true;
  editorMode: 'code';
}

export class MysqlQueryBuilder implements cog.Builder<MysqlQuery> {
  readonly #rawSql: string;
  readonly #format: QueryFormat;
  readonly #refId: string;

  constructor(rawSql: string, format: QueryFormat, refId = 'A') {
    this.#rawSql = rawSql;
    this.#format = format;
    this.#refId = refId;
  }

  build(): MysqlQuery {
    return {
      refId: this.#refId,
      datasource: DATASOURCE,
      rawSql: this.#rawSql,
      format: this.#format,
      rawQuery: true,
      editorMode: 'code',
      _implementsDataqueryVariant() {},
    };
  }
}
