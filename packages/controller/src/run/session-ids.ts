/*
 * Session ids of a run. A planned session `s0003` may run as more than one
 * session: with `--duration` it repeats (`s0003.r1`, `s0003.r2`, …, the
 * agent's naming), and when its agent is lost before it started it is
 * reassigned to another agent as attempt 2, 3, … (`s0003.a2`, which repeats
 * as `s0003.a2.r1`). Every such id belongs to the planned slot `s0003`. Pure.
 */

export interface ParsedSessionId {
  /** The planned session (slot) it belongs to. */
  readonly slot: string;
  /** 1 for the planned assignment, n for the n-th reassignment. */
  readonly attempt: number;
  /** 0 for the first round, n for the n-th repetition. */
  readonly round: number;
}

const PATTERN = /^(.+?)(?:\.a(\d+))?(?:\.r(\d+))?$/;

export function parseSessionId(id: string): ParsedSessionId {
  const m = PATTERN.exec(id);
  if (!m) return { slot: id, attempt: 1, round: 0 };
  return { slot: m[1]!, attempt: m[2] === undefined ? 1 : Number(m[2]), round: m[3] === undefined ? 0 : Number(m[3]) };
}

/** The id of attempt `n` (≥ 2) of a planned session. */
export function attemptId(slot: string, attempt: number): string {
  return attempt <= 1 ? slot : `${slot}.a${attempt}`;
}
