import { ERROR_CODES, type AssignReply, type Assignment, type Capacity } from '@userprobe/shared';

export interface AssignmentContext {
  readonly capacity: Capacity;
  /** Scenario names this agent can run. */
  readonly knownScenarios: readonly string[];
  /** Session ids of the run with the same id, if that run is active here. */
  readonly activeSessionIds: ReadonlySet<string> | null;
}

/**
 * Pure: may this agent take the assignment? Returns null when it may, a
 * refusal (code + reason naming what would be accepted) when it may not, or
 * `{accepted: true}` for an exact repeat of a run already running here (an
 * assignment re-sent after a lost ack).
 */
export function checkAssignment(a: Assignment, c: AssignmentContext): AssignReply | null {
  if (c.activeSessionIds !== null) {
    const same = a.sessions.length === c.activeSessionIds.size && a.sessions.every((s) => c.activeSessionIds?.has(s.sessionId));
    return same
      ? { accepted: true }
      : { accepted: false, code: ERROR_CODES.PLAN_INFEASIBLE, reason: `run ${a.runId} is already running on this agent with other sessions; assign new sessions under a new run id` };
  }
  if (a.scenarioModule === undefined && !c.knownScenarios.includes(a.scenario)) {
    return { accepted: false, code: ERROR_CODES.SCENARIO_UNKNOWN, reason: `this agent cannot run scenario "${a.scenario}"; it runs: ${c.knownScenarios.join(', ') || '(none)'}` };
  }
  if (c.capacity[a.scenario] <= 0) {
    return { accepted: false, code: ERROR_CODES.PLAN_INFEASIBLE, reason: `this agent's capacity for ${a.scenario} is 0 (start it with --capacity ${a.scenario}=N)` };
  }
  const ids = new Set(a.sessions.map((s) => s.sessionId));
  if (ids.size !== a.sessions.length) {
    return { accepted: false, code: ERROR_CODES.MESSAGE_INVALID, reason: `run ${a.runId}: session ids must be unique within an assignment` };
  }
  return null;
}
