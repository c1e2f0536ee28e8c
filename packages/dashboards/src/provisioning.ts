import type { ContactPoint, NotificationPolicy, Rule } from '@grafana/grafana-foundation-sdk/alerting';
import { FOLDER, RETIRED_RULE_UIDS, RULE_GROUP } from './alerting/alert-rules.js';
import { RULE_GROUP_INTERVAL } from './alerting/alert-thresholds.js';
import { CONTACT_POINT } from './alerting/notifications.js';
import { DATASOURCE_UID } from './sql/mysql-query.js';

/*
 * Grafana's provisioning file shapes (apiVersion 1). The SDK builds the
 * objects as its HTTP API has them; these wrap them the way the files want.
 */

/** Where the dashboards provider reads the JSON files (mount grafana/dashboards there). */
export const DASHBOARDS_PATH = '/var/lib/grafana/dashboards/userprobe';

export const DATASOURCE_ENV = {
  host: 'USERPROBE_MYSQL_HOST',
  database: 'USERPROBE_MYSQL_DATABASE',
  user: 'USERPROBE_GRAFANA_MYSQL_USER',
  password: 'USERPROBE_GRAFANA_MYSQL_PASSWORD',
} as const;

export function datasourceFile(): object {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'userprobe MySQL',
        uid: DATASOURCE_UID,
        type: 'mysql',
        access: 'proxy',
        url: `\${${DATASOURCE_ENV.host}}`,
        user: `\${${DATASOURCE_ENV.user}}`,
        database: `\${${DATASOURCE_ENV.database}}`,
        isDefault: true,
        editable: false,
        jsonData: {
          database: `\${${DATASOURCE_ENV.database}}`,
          // Session time zone: FROM_UNIXTIME() in $__timeFilter and UNIX_TIMESTAMP() in
          // $__timeGroup then agree with the UTC DATETIME(3) columns; graphs never shift.
          timezone: '+00:00',
          timeInterval: '1m',
          maxOpenConns: 10,
          maxIdleConns: 10,
          connMaxLifetime: 14400,
        },
        secureJsonData: { password: `\${${DATASOURCE_ENV.password}}` },
      },
    ],
  };
}

export function dashboardProviderFile(): object {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'userprobe',
        orgId: 1,
        folder: FOLDER,
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 60,
        options: { path: DASHBOARDS_PATH, foldersFromFilesStructure: false },
      },
    ],
  };
}

export function alertRulesFile(rules: readonly Rule[]): object {
  return {
    apiVersion: 1,
    groups: [
      {
        orgId: 1,
        name: RULE_GROUP,
        folder: FOLDER,
        interval: RULE_GROUP_INTERVAL,
        rules: rules.map((r) => ({
          uid: r.uid,
          title: r.title,
          condition: r.condition,
          data: r.data,
          noDataState: r.noDataState,
          execErrState: r.execErrState,
          for: r.for,
          annotations: r.annotations,
          labels: r.labels,
          isPaused: false,
        })),
      },
    ],
    deleteRules: RETIRED_RULE_UIDS.map((uid) => ({ orgId: 1, uid })),
  };
}

export function contactPointsFile(cp: ContactPoint): object {
  return {
    apiVersion: 1,
    contactPoints: [
      {
        orgId: 1,
        name: cp.name ?? CONTACT_POINT,
        receivers: [{ uid: cp.uid, type: cp.type, settings: cp.settings as unknown, disableResolveMessage: false }],
      },
    ],
  };
}

/** Not provisioned by default: a policies file replaces the organisation's whole tree (grafana/optional/). */
export function policiesFile(policy: NotificationPolicy): object {
  return { apiVersion: 1, policies: [{ orgId: 1, ...policy }] };
}
