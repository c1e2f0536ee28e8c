import { ConfigError } from './errors.js';
import { MAX_CAPACITY } from './limits.js';
import type { Capacity } from './messages.js';
import { SCENARIOS, isScenarioName } from './scenarios.js';

/*
 * `--capacity` values, the agent's own flag and the controller's for its
 * local agents (which it checks at start with the same rules): `N` (chat-load
 * and cobrowse) or `SCENARIO=N`, repeatable or comma-separated, N from 0 to
 * MAX_CAPACITY. Pure.
 */

export const CAPACITY_HELP = `use N (chat-load and cobrowse) or SCENARIO=N with SCENARIO one of ${SCENARIOS.join(', ')} and N a whole number from 0 to ${MAX_CAPACITY}`;

/** `--capacity 20 --capacity video-call=2` over `defaults`. Later values win. */
export function parseCapacity(values: readonly string[], defaults: Capacity): Capacity {
  const out: Capacity = { ...defaults };
  for (const raw of values) {
    for (const v of raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const m = /^(?:([a-z-]+)=)?(\d+)$/.exec(v);
      if (!m) throw new ConfigError(`--capacity: "${v}" is not accepted; ${CAPACITY_HELP}`);
      const n = Number(m[2]);
      if (n > MAX_CAPACITY) throw new ConfigError(`--capacity: "${v}" is not accepted; ${CAPACITY_HELP}`);
      const scenario = m[1];
      if (scenario === undefined) {
        out['chat-load'] = n;
        out.cobrowse = n;
      } else if (isScenarioName(scenario)) {
        out[scenario] = n;
      } else {
        throw new ConfigError(`--capacity: unknown scenario "${scenario}"; ${CAPACITY_HELP}`);
      }
    }
  }
  return out;
}
