import { ERROR_CODES, type AssignReply, type Assignment, type Capacity, type TargetProfile } from '@userprobe/shared';
import type { HostPolicy } from '../trust/host-policy.js';

/** What this agent holds of the assignment's run, when it holds it. */
export interface ActiveRunView {
  readonly scenario: Assignment['scenario'];
  readonly browser: Assignment['browser'];
  /** Session ids per part accepted so far. */
  readonly parts: ReadonlyMap<number, ReadonlySet<string>>;
}

export interface AssignmentContext {
  readonly capacity: Capacity;
  /** Scenario names this agent can run. */
  readonly knownScenarios: readonly string[];
  /** The run with the same id, if this agent holds it. */
  readonly active: ActiveRunView | null;
  /** The hosts this agent's operator allows (`--allow-host`). */
  readonly hosts: HostPolicy;
  /** Folders custom scenario modules may come from (`--scenario-dir`); none: no module is loaded. */
  readonly scenarioDirs: readonly string[];
}

/** Pure: the URLs a target profile names, with their paths (the profile schema's URL fields). */
export function profileUrls(p: TargetProfile): Array<{ path: string; url: string }> {
  return [
    { path: 'visitor.url', url: p.visitor.url },
    { path: 'agent.url', url: p.agent.url },
  ];
}

/**
 * Pure: does the agent's operator allow what the assignment asks? Every URL
 * of the profile on an allowed host over http(s); a custom scenario module
 * only when a --scenario-dir is set (the loader checks the module is inside
 * one). A refusal names the flag that would allow it.
 */
export function policyRefusal(a: Assignment, c: Pick<AssignmentContext, 'hosts' | 'scenarioDirs'>): AssignReply | null {
  for (const { path, url } of profileUrls(a.profile)) {
    const problem = c.hosts.urlProblem(url, 'profile');
    if (problem !== null) return { accepted: false, code: ERROR_CODES.NOT_ALLOWED, reason: `the target profile's ${path}: ${problem}` };
  }
  if (a.scenarioModule !== undefined && c.scenarioDirs.length === 0) {
    return {
      accepted: false,
      code: ERROR_CODES.NOT_ALLOWED,
      reason: `run ${a.runId} asks for the custom scenario module ${a.scenarioModule}; this agent loads no scenario modules (its operator allows a folder of them with --scenario-dir DIR)`,
    };
  }
  return null;
}

/**
 * Pure: may this agent take the assignment? Its operator's policy first
 * (policyRefusal), then the run's state here. Returns null when it may, a
 * refusal (code + reason naming what would be accepted) when it may not, or
 * `{accepted: true}` for an exact repeat of a part it already holds (an
 * assignment re-sent after a lost ack). A new part of a run it holds (sessions
 * reassigned from a lost agent) is taken when it has the run's scenario and
 * browser and none of its session ids.
 */
export function checkAssignment(a: Assignment, c: AssignmentContext): AssignReply | null {
  const refused = policyRefusal(a, c);
  if (refused !== null) return refused;
  if (c.active !== null) {
    const held = c.active.parts.get(a.part);
    if (held !== undefined) {
      const same = a.sessions.length === held.size && a.sessions.every((s) => held.has(s.sessionId));
      return same
        ? { accepted: true }
        : {
            accepted: false,
            code: ERROR_CODES.PLAN_INFEASIBLE,
            reason: `run ${a.runId} part ${a.part} is already running on this agent with other sessions; a new share needs a new part`,
          };
    }
    if (a.scenario !== c.active.scenario || a.browser !== c.active.browser) {
      return {
        accepted: false,
        code: ERROR_CODES.PLAN_INFEASIBLE,
        reason: `run ${a.runId} runs ${c.active.scenario} on ${c.active.browser} here; part ${a.part} asks for ${a.scenario} on ${a.browser}`,
      };
    }
    const taken = a.sessions.filter((s) => [...c.active!.parts.values()].some((ids) => ids.has(s.sessionId))).map((s) => s.sessionId);
    if (taken.length > 0) {
      return {
        accepted: false,
        code: ERROR_CODES.MESSAGE_INVALID,
        reason: `run ${a.runId} part ${a.part}: session(s) ${taken.slice(0, 5).join(', ')} are already assigned here`,
      };
    }
  }
  if (a.scenarioModule === undefined && !c.knownScenarios.includes(a.scenario)) {
    return {
      accepted: false,
      code: ERROR_CODES.SCENARIO_UNKNOWN,
      reason: `this agent cannot run scenario "${a.scenario}"; it runs: ${c.knownScenarios.join(', ') || '(none)'}`,
    };
  }
  if (c.capacity[a.scenario] <= 0) {
    return {
      accepted: false,
      code: ERROR_CODES.PLAN_INFEASIBLE,
      reason: `this agent's capacity for ${a.scenario} is 0 (start it with --capacity ${a.scenario}=N)`,
    };
  }
  const ids = new Set(a.sessions.map((s) => s.sessionId));
  if (ids.size !== a.sessions.length) {
    return { accepted: false, code: ERROR_CODES.MESSAGE_INVALID, reason: `run ${a.runId}: session ids must be unique within an assignment` };
  }
  return null;
}
