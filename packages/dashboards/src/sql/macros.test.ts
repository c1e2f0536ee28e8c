import { describe, expect, it } from 'vitest';
import { formatInterval, grafanaInterpolate, interpolateMacros, interpolateVariables, MacroError, parseInterval } from './macros.js';

// 2017-04-21 05:01:17 UTC → 1492750877, the example in Grafana's MySQL docs.
const range = { from: 1_492_750_877_000, to: 1_492_750_877_000 + 3_600_000 };

describe('interpolateMacros (pkg/tsdb/mysql/macros.go)', () => {
  it.each([
    ['$__time(ts)', 'UNIX_TIMESTAMP(ts) as time_sec'],
    ['$__timeEpoch(ts)', 'UNIX_TIMESTAMP(ts) as time_sec'],
    ['WHERE $__timeFilter(ts)', 'WHERE ts BETWEEN FROM_UNIXTIME(1492750877) AND FROM_UNIXTIME(1492754477)'],
    ['$__timeFrom()', 'FROM_UNIXTIME(1492750877)'],
    ['$__timeTo()', 'FROM_UNIXTIME(1492754477)'],
    ["$__timeGroup(ts, '5m')", 'UNIX_TIMESTAMP(ts) DIV 300 * 300'],
    ['$__timeGroup(ts,1h)', 'UNIX_TIMESTAMP(ts) DIV 3600 * 3600'],
    ['$__timeGroupAlias(ts, 5m)', 'UNIX_TIMESTAMP(ts) DIV 300 * 300 AS "time"'],
    ['$__unixEpochFilter(t)', 't >= 1492750877 AND t <= 1492754477'],
    ["$__unixEpochGroupAlias(t, '1m')", 't DIV 60 * 60 AS "time"'],
    ['$__unixEpochNanoFrom()', '1492750877000000000'],
  ])('%s', (input, out) => expect(interpolateMacros(input, range)).toBe(out));

  it.each([
    ['$__nope(x)', /unknown macro __nope/],
    ['$__timeGroup(ts)', /needs time column and interval/],
    ['$__timeGroup(ts, 5 minutes)', /error parsing interval/],
    ['SELECT user() FROM t', /not allowed/],
  ])('%s fails like Grafana', (input, message) => {
    expect(() => interpolateMacros(input, range)).toThrow(MacroError);
    expect(() => interpolateMacros(input, range)).toThrow(message);
  });
});

describe('interpolateVariables (SqlDatasource.interpolateVariable)', () => {
  it.each([
    ["run_id = '$run'", { run: { multi: false, includeAll: false, value: "r'1" } }, "run_id = 'r''1'"],
    ['scenario IN ($scenario)', { scenario: { multi: true, includeAll: true, value: ['chat-load', 'cobrowse'] } }, "scenario IN ('chat-load','cobrowse')"],
    ['metric IN (${metric})', { metric: { multi: true, includeAll: true, value: 'api_init' } }, "metric IN ('api_init')"],
    ['$__timeFilter(ts) AND $unknown', {}, '$__timeFilter(ts) AND $unknown'],
    [
      "('__all__' IN ($check) OR c IN ($check))",
      { check: { multi: true, includeAll: true, value: ['a', 'b'], allValue: "'__all__'" } },
      "('__all__' IN ('__all__') OR c IN ('__all__'))",
    ],
    ["('__all__' IN ($check) OR c IN ($check))", { check: { multi: true, includeAll: true, value: ['a'] } }, "('__all__' IN ('a') OR c IN ('a'))"],
  ])('%s', (input, vars, out) => expect(interpolateVariables(input, vars)).toBe(out));
});

describe('intervals (gtime)', () => {
  it.each([
    [60_000, '1m'],
    [300_000, '5m'],
    [30_000, '30s'],
    [3_600_000, '1h'],
    [500, '500ms'],
  ])('%d ms → %s', (ms, s) => {
    expect(formatInterval(ms)).toBe(s);
    expect(parseInterval(s)).toBe(ms);
  });

  it('$__interval is substituted before the macro that uses it', () => {
    expect(grafanaInterpolate('$__timeGroupAlias(ts, $__interval), $__interval_ms', { range, intervalMs: 300_000 })).toBe(
      'UNIX_TIMESTAMP(ts) DIV 300 * 300 AS "time", 300000',
    );
  });
});
