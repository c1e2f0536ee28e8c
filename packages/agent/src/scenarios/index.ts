import { ERROR_CODES, ProbeError } from '@userprobe/shared';
import type { Scenario } from '../runner/scenario-api.js';
import { chatLoad } from './chat-load.js';
import { cobrowse } from './cobrowse.js';
import { videoCall } from './video-call.js';

/** The scenarios this agent can run, by name. */
export const SCENARIO_REGISTRY: ReadonlyMap<string, Scenario> = new Map<string, Scenario>([
  [chatLoad.name, chatLoad],
  [videoCall.name, videoCall],
  [cobrowse.name, cobrowse],
]);

/** The scenario named `name`; a ProbeError SCENARIO_UNKNOWN listing the accepted names otherwise. */
export function getScenario(name: string): Scenario {
  const s = SCENARIO_REGISTRY.get(name);
  if (!s) {
    throw new ProbeError(ERROR_CODES.SCENARIO_UNKNOWN, `unknown scenario '${name}'; this agent runs: ${[...SCENARIO_REGISTRY.keys()].join(', ')}`, {
      detail: { scenario: name },
    });
  }
  return s;
}

export { chatLoad, videoCall, cobrowse };
