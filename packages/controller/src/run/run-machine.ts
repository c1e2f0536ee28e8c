import type { AgentRunState, PlannedSession, RunFinished, SessionPhase, SessionStatus } from '@userprobe/shared';
import { parseSessionId, attemptId } from './session-ids.js';
import type { AgentRecord, EndReason, OnAgentLoss, Slot } from './run-state-schema.js';

export { ON_AGENT_LOSS, type OnAgentLoss, type EndReason, type Slot } from './run-state-schema.js';

/**
 * A run, followed as a pure state machine: events in (agents assigned,
 * progress, batches stored, run:finished, agents gone and back, timers, an
 * abort), decisions out (assign, resume, abort, set and clear timers, notes,
 * the end). No sockets, no clock, no I/O: the coordinator feeds it and carries
 * out what it decides, and the table tests in run-machine.test.ts drive it
 * directly. The plan itself (shares, ramp) is made before it starts.
 *
 * Liveness and reassignment:
 * - An agent that disconnects mid-run is *away*; after `lossGraceMs` it is
 *   *lost* — as it is at once when it comes back as another process (it
 *   restarted: another instance id). Its sessions that had not started go to
 *   agents with spare capacity as new attempts (`s0003.a2`), in a new part of
 *   their assignment (`onAgentLoss: 'reassign'`), or the run fails (`'fail'`).
 *   Its running sessions are recorded as lost (their partial samples stay out
 *   of the percentiles). A run with a duration hands the rest of the lost
 *   agent's slots to others too.
 * - Sessions that find no spare capacity wait; they are placed as sessions end
 *   or agents join (a late-joining agent takes new work). Every part placed
 *   pushes the run's bound back far enough for it.
 * - Every agent that comes back holding the run gets `run:resume`, naming the
 *   exact attempts that went elsewhere (revoked: dropped without a record);
 *   until then it starts nothing. What it kept running finishes and counts.
 * - A run:finished counts only when it covers every part sent to that agent.
 * - Whatever ends the run, every agent still in it gets `run:abort` (one that
 *   comes back to an aborting run gets it then).
 */

export interface MachineConfig {
  readonly runId: string;
  readonly onAgentLoss: OnAgentLoss;
  readonly lossGraceMs: number;
  readonly drainMs: number;
  /** Lead between deciding a part and its agreed start. */
  readonly startLeadMs: number;
  /** Spacing between the starts of reassigned sessions (the run's ramp pace). */
  readonly reassignSpacingMs: number;
  /** Sessions repeat until the run's start plus this (null: each runs once). */
  readonly durationMs: number | null;
  /** One session's hard limit: what a reassigned part adds to the run's bound. */
  readonly sessionTimeoutMs: number;
}

export interface MachineAgent {
  readonly agentId: string;
  readonly name: string;
  /** Sessions of the run's scenario it holds at once. */
  readonly capacity: number;
  /** The agent process (random per start). */
  readonly instanceId: string;
}

/** A planned part of one agent's share. */
export interface PlannedPart {
  readonly agentId: string;
  readonly sessions: readonly PlannedSession[];
}

export type Command =
  | {
      readonly kind: 'assign';
      readonly agentId: string;
      readonly part: number;
      readonly sessions: readonly PlannedSession[];
      readonly startAt: number;
      readonly durationMs: number | null;
    }
  | { readonly kind: 'resume'; readonly agentId: string; readonly revoked: readonly string[]; readonly reason: string }
  | { readonly kind: 'abort'; readonly agentId: string; readonly reason: string }
  | { readonly kind: 'timer'; readonly key: TimerKey; readonly ms: number }
  /** Arm the timer unless it is armed to fire later already. */
  | { readonly kind: 'extend'; readonly key: TimerKey; readonly ms: number }
  | { readonly kind: 'cancel'; readonly key: TimerKey }
  | { readonly kind: 'note'; readonly text: string }
  | { readonly kind: 'persist' }
  | { readonly kind: 'end'; readonly reason: EndReason };

/** `loss:<agentId>`: an agent's grace; `drain`: the last batches; `abort`: agents flushing an aborted run; `bound`: the run's overall limit. */
export type TimerKey = `loss:${string}` | 'drain' | 'abort' | 'bound';

export type MachineEvent =
  | { readonly kind: 'assigned'; readonly agentId: string; readonly part: number; readonly accepted: true }
  | { readonly kind: 'assigned'; readonly agentId: string; readonly part: number; readonly accepted: false; readonly reason: string }
  | { readonly kind: 'progress'; readonly agentId: string; readonly sessionId: string; readonly phase: SessionPhase }
  | {
      readonly kind: 'batch';
      readonly agentId: string;
      readonly seq: number;
      readonly records: readonly { readonly sessionId: string; readonly status: SessionStatus }[];
    }
  | { readonly kind: 'finished'; readonly agentId: string; readonly finished: RunFinished }
  | { readonly kind: 'disconnected'; readonly agentId: string; readonly reason: string }
  | { readonly kind: 'connected'; readonly agent: MachineAgent; readonly runs: readonly AgentRunState[] }
  | { readonly kind: 'resumed'; readonly agentId: string; readonly alreadyStarted: readonly string[] }
  /** A restored run (re-adopted): judge it once against what is already stored. */
  | { readonly kind: 'restored' }
  | { readonly kind: 'timer'; readonly key: TimerKey }
  | { readonly kind: 'abort'; readonly reason: string };

/** An agent as the machine follows it: its file record plus what is live. */
export interface AgentInRun extends AgentRecord {
  connected: boolean;
  readonly seqs: Set<number>;
  awaySince: number | null;
}

export interface MachineState {
  readonly config: MachineConfig;
  /** The run's agreed start (controller clock). */
  readonly startAt: number;
  readonly slots: Map<string, Slot>;
  readonly agents: Map<string, AgentInRun>;
  nextPart: number;
  phase: 'running' | 'aborting' | 'ended';
  abortReason: string | null;
  drainArmed: boolean;
  end: EndReason | null;
  /** Ids of the sessions that were running on an agent when it was lost (their records never came). */
  readonly lostSessions: Set<string>;
}

export interface Step {
  readonly state: MachineState;
  readonly commands: Command[];
}

/** The machine's first state and commands: part 0 of every share. */
export function startRun(
  config: MachineConfig,
  agents: readonly MachineAgent[],
  shares: readonly PlannedPart[],
  startAt: number,
  durationMs: number | null,
): Step {
  const state: MachineState = {
    config,
    startAt,
    slots: new Map(),
    agents: new Map(),
    nextPart: 1,
    phase: 'running',
    abortReason: null,
    drainArmed: false,
    end: null,
    lostSessions: new Set(),
  };
  for (const a of agents) state.agents.set(a.agentId, newAgent(a));
  // Durable first, as every part: the plan is written before any agent gets work.
  const commands: Command[] = [{ kind: 'persist' }];
  for (const share of shares) {
    if (share.sessions.length === 0) continue;
    const agent = state.agents.get(share.agentId)!;
    agent.inRun = true;
    agent.sentParts.push(0);
    for (const s of share.sessions) {
      state.slots.set(s.sessionId, {
        slot: s.sessionId,
        agentId: share.agentId,
        attempt: 1,
        part: 0,
        current: null,
        offsetMs: s.startOffsetMs,
        phase: 'pending',
        status: null,
        movedFrom: [],
      });
    }
    commands.push({ kind: 'assign', agentId: share.agentId, part: 0, sessions: share.sessions, startAt, durationMs });
  }
  return { state, commands };
}

function newAgent(a: MachineAgent): AgentInRun {
  return {
    agentId: a.agentId,
    name: a.name,
    capacity: a.capacity,
    instanceId: a.instanceId,
    connected: true,
    inRun: false,
    parts: [],
    sentParts: [],
    finished: null,
    seqs: new Set(),
    lost: false,
    awaySince: null,
  };
}

/** Advance the machine by one event at `now` (controller clock). The state is updated in place and returned. */
export function step(state: MachineState, event: MachineEvent, now: number): Step {
  const out: Command[] = [];
  if (state.phase === 'ended') {
    // The run is over; late arrivals are still durable (the hub stores them) but decide nothing.
    return { state, commands: out };
  }
  switch (event.kind) {
    case 'assigned':
      onAssigned(state, event, now, out);
      break;
    case 'progress':
      onProgress(state, event, now, out);
      break;
    case 'batch': {
      const a = state.agents.get(event.agentId);
      if (a) a.seqs.add(event.seq);
      for (const r of event.records) settleSlot(state, r.sessionId, r.status);
      place(state, now, out);
      break;
    }
    case 'finished':
      onFinished(state, event, now, out);
      break;
    case 'disconnected':
      onDisconnected(state, event, now, out);
      break;
    case 'connected':
      onConnected(state, event, now, out);
      break;
    case 'resumed':
      for (const id of event.alreadyStarted) {
        out.push({
          kind: 'note',
          text: `session ${id} had already started on ${state.agents.get(event.agentId)?.name ?? event.agentId} when it was reassigned; both runs of it are kept`,
        });
      }
      break;
    case 'restored':
      place(state, now, out);
      break;
    case 'timer':
      onTimer(state, event.key, now, out);
      break;
    case 'abort':
      beginAbort(state, event.reason, out);
      break;
    default: {
      const never: never = event;
      throw new Error(`unhandled event ${JSON.stringify(never)}`);
    }
  }
  checkDone(state, out);
  return { state, commands: out };
}

function onAssigned(state: MachineState, e: Extract<MachineEvent, { kind: 'assigned' }>, now: number, out: Command[]): void {
  const a = state.agents.get(e.agentId);
  if (!a) return;
  if (e.accepted) {
    if (!a.parts.includes(e.part)) a.parts.push(e.part);
    if (e.part === 0 && allHoldPartZero(state)) {
      out.push({ kind: 'note', text: `assigned; sessions start at ${new Date(state.startAt).toISOString()}` });
    }
    return;
  }
  const reason = `agent ${a.name} refused its assignment: ${e.reason}`;
  if (e.part === 0) {
    finish(state, { kind: 'start-failed', reason }, out);
    return;
  }
  // A later part refused: it will not run there; its sessions wait for another agent.
  a.sentParts.splice(a.sentParts.indexOf(e.part), 1);
  out.push({ kind: 'note', text: `${reason}; its sessions wait for another agent` });
  for (const s of state.slots.values()) {
    if (s.agentId === e.agentId && s.phase === 'pending' && s.part === e.part) moveAway(s);
  }
  place(state, now, out, e.agentId);
}

function onProgress(state: MachineState, e: Extract<MachineEvent, { kind: 'progress' }>, now: number, out: Command[]): void {
  const id = parseSessionId(e.sessionId);
  const s = state.slots.get(id.slot);
  if (!s || id.attempt !== s.attempt) return; // an earlier attempt that kept running: counted from its record
  if (e.phase === 'started') {
    if (s.phase === 'pending' || s.phase === 'done') {
      s.phase = 'running';
      s.current = e.sessionId;
    }
    return;
  }
  settleSlot(state, e.sessionId, e.phase === 'finished' ? 'ok' : e.phase);
  place(state, now, out);
}

/** A session of the slot ended with a record: the slot is done (with a duration, until its next round starts). */
function settleSlot(state: MachineState, sessionId: string, status: SessionStatus): void {
  const id = parseSessionId(sessionId);
  const s = state.slots.get(id.slot);
  if (!s) return;
  state.lostSessions.delete(sessionId);
  if (id.attempt !== s.attempt) return;
  if (s.phase === 'running' || s.phase === 'pending' || s.phase === 'lost') {
    s.phase = 'done';
    s.status = status;
  }
}

function onFinished(state: MachineState, e: Extract<MachineEvent, { kind: 'finished' }>, now: number, out: Command[]): void {
  const a = state.agents.get(e.agentId);
  if (!a || !a.inRun) return;
  const f = e.finished;
  // A report made before the agent accepted the latest part sent to it does not close its share.
  const uncovered = f.parts === undefined ? [] : a.sentParts.filter((p) => !f.parts!.includes(p));
  if (uncovered.length > 0) {
    out.push({ kind: 'note', text: `agent ${a.name} reported its share finished before part ${uncovered.join(', ')}; waiting for the report that covers it` });
    return;
  }
  a.finished = f;
  if (a.lost) {
    a.lost = false;
    out.push({ kind: 'note', text: `agent ${a.name}, given up on earlier, finished its share after all` });
  }
  out.push({ kind: 'note', text: `agent ${a.name} finished: ${f.ok} ok, ${f.failed} failed, ${f.aborted ?? 0} aborted, ${f.lastSeq} batch(es)` });
  out.push({ kind: 'persist' });
  place(state, now, out);
}

function onDisconnected(state: MachineState, e: Extract<MachineEvent, { kind: 'disconnected' }>, now: number, out: Command[]): void {
  const a = state.agents.get(e.agentId);
  if (!a) return;
  a.connected = false;
  if (!a.inRun || a.lost || a.finished !== null || state.phase !== 'running') return;
  a.awaySince = now;
  out.push({
    kind: 'note',
    text: `agent ${a.name} disconnected mid-run (${e.reason}); its share is reassigned if it is not back within ${Math.round(state.config.lossGraceMs / 1000)} s (--loss-grace)`,
  });
  out.push({ kind: 'timer', key: `loss:${a.agentId}`, ms: state.config.lossGraceMs });
}

function onConnected(state: MachineState, e: Extract<MachineEvent, { kind: 'connected' }>, now: number, out: Command[]): void {
  const held = e.runs.find((r) => r.runId === state.config.runId);
  const known = state.agents.get(e.agent.agentId);
  if (!known) {
    // Not in the run (yet): a late joiner, a candidate for waiting sessions.
    state.agents.set(e.agent.agentId, newAgent(e.agent));
    place(state, now, out);
    return;
  }
  const a = known;
  const restarted = a.instanceId !== null && a.instanceId !== e.agent.instanceId;
  a.connected = true;
  a.name = e.agent.name;
  a.capacity = e.agent.capacity;
  a.instanceId = e.agent.instanceId;
  if (state.phase === 'aborting') {
    // Back to a run being aborted: stop whatever it still runs of it.
    if (held && a.inRun) out.push({ kind: 'abort', agentId: a.agentId, reason: state.abortReason ?? 'the run was aborted' });
    return;
  }
  if (!a.inRun || a.finished !== null) {
    if (held && a.inRun) out.push({ kind: 'resume', agentId: a.agentId, revoked: [], reason: 'its share is done' });
    place(state, now, out);
    return;
  }
  const wasAway = a.awaySince !== null;
  a.awaySince = null;
  out.push({ kind: 'cancel', key: `loss:${a.agentId}` });
  if (restarted || held === undefined) {
    // Another process (it restarted), or back without the run: what it held is gone.
    out.push({ kind: 'note', text: `agent ${a.name} is back without this run (it restarted): its running sessions are lost` });
    declareLost(state, a, 'it restarted without the run', now, out);
    return;
  }
  // Same process, holding the run: go on, minus what went elsewhere meanwhile (the exact attempts it held).
  const revoked = [...state.slots.values()].flatMap((s) => s.movedFrom.filter((m) => m.agentId === a.agentId).map((m) => attemptId(s.slot, m.attempt)));
  if (a.lost) {
    a.lost = false;
    out.push({ kind: 'note', text: `agent ${a.name} is back after its share was reassigned; ${revoked.length} session(s) of it now run elsewhere` });
    for (const id of held.running) {
      const s = state.slots.get(parseSessionId(id).slot);
      if (s && s.phase === 'lost' && s.agentId === a.agentId) s.phase = 'running';
    }
    out.push({ kind: 'persist' });
  } else if (wasAway) {
    out.push({ kind: 'note', text: `agent ${a.name} is back` });
  }
  out.push({ kind: 'resume', agentId: a.agentId, revoked, reason: revoked.length ? 'reassigned to other agents while this agent was away' : 'back in reach' });
  if (held.finished && held.running.length === 0 && held.pending === 0 && a.finished === null) {
    // Its share is over and its report was acknowledged before (by a controller that died): take the hello's word for it.
    onFinished(
      state,
      { kind: 'finished', agentId: a.agentId, finished: { runId: state.config.runId, lastSeq: held.lastSeq, ok: 0, failed: 0, parts: [...a.sentParts] } },
      now,
      out,
    );
    return;
  }
  place(state, now, out);
}

function onTimer(state: MachineState, key: TimerKey, now: number, out: Command[]): void {
  if (key === 'drain') {
    finish(state, { kind: 'drain-timeout', missing: missingBatches(state) }, out);
    return;
  }
  if (key === 'abort') {
    finish(state, { kind: 'aborted', reason: state.abortReason ?? 'aborted' }, out);
    return;
  }
  if (key === 'bound') {
    const running = [...state.agents.values()].filter((a) => a.inRun && !a.lost && a.finished === null).map((a) => a.name);
    finish(state, { kind: 'bound', running }, out);
    return;
  }
  const agentId = key.slice('loss:'.length);
  const a = state.agents.get(agentId);
  if (!a || a.connected || a.lost || a.finished !== null || state.phase !== 'running') return;
  declareLost(state, a, `disconnected and not back within ${Math.round(state.config.lossGraceMs / 1000)} s`, now, out);
}

/** The slot's latest attempt leaves its agent: it waits for another. */
function moveAway(s: Slot): void {
  if (s.agentId !== null) s.movedFrom.push({ agentId: s.agentId, attempt: s.attempt });
  s.agentId = null;
  s.phase = 'waiting';
}

function declareLost(state: MachineState, a: AgentInRun, why: string, now: number, out: Command[]): void {
  if (state.config.onAgentLoss === 'fail') {
    finish(state, { kind: 'agent-lost', agentId: a.agentId, name: a.name, reason: why }, out);
    return;
  }
  let lost = 0;
  let moved = 0;
  const repeating = state.config.durationMs !== null;
  for (const s of state.slots.values()) {
    if (s.agentId !== a.agentId) continue;
    const running = s.phase === 'running';
    if (running) {
      lost += 1;
      state.lostSessions.add(s.current ?? attemptId(s.slot, s.attempt));
    }
    // Not started: runs elsewhere. With a duration, so do the rest of every slot's rounds.
    if (s.phase === 'pending' || (repeating && (running || s.phase === 'done'))) {
      moveAway(s);
      if (!running) moved += 1;
    } else if (running) {
      s.phase = 'lost';
    }
  }
  out.push({ kind: 'note', text: `agent ${a.name} is lost (${why}): ${lost} running session(s) lost, ${moved} not started reassigned` });
  if (a.connected) {
    // It restarted: its old share is gone, but the agent itself is here and can take new work.
    a.inRun = false;
    a.finished = null;
    a.parts.length = 0;
    a.sentParts.length = 0;
  } else {
    a.lost = true;
  }
  out.push({ kind: 'persist' });
  place(state, now, out);
}

/** Every agent in the run holds its first part (a loop, not a copy of the fleet: this runs for each of thousands of acks). */
function allHoldPartZero(state: MachineState): boolean {
  for (const x of state.agents.values()) if (x.inRun && !x.lost && !x.parts.includes(0)) return false;
  return true;
}

function anyWaiting(state: MachineState): boolean {
  for (const s of state.slots.values()) if (s.phase === 'waiting') return true;
  return false;
}

/** Give waiting slots to agents with spare capacity, one new part per agent, written before it is sent. */
function place(state: MachineState, now: number, out: Command[], exclude?: string): void {
  // Called on every progress event and batch: with nothing waiting (the usual case) it allocates nothing.
  if (state.phase !== 'running' || !anyWaiting(state)) return;
  const waiting = [...state.slots.values()].filter((s) => s.phase === 'waiting').sort((x, y) => x.offsetMs - y.offsetMs || (x.slot < y.slot ? -1 : 1));
  const startAt = now + state.config.startLeadMs;
  let durationMs: number | null = null;
  if (state.config.durationMs !== null) {
    const left = state.startAt + state.config.durationMs - startAt;
    if (left <= 0) {
      for (const s of waiting) s.phase = s.status === null ? 'over' : 'done';
      out.push({ kind: 'note', text: `${waiting.length} reassigned slot(s) not started: the run's duration is over` });
      return;
    }
    durationMs = left;
  }
  const spare = [...state.agents.values()]
    .filter((a) => a.connected && !a.lost && a.agentId !== exclude)
    .map((a) => ({ a, free: a.capacity - activeOn(state, a.agentId) }))
    .filter((x) => x.free > 0)
    .sort((x, y) => y.free - x.free || (x.a.agentId < y.a.agentId ? -1 : 1));
  const parts = new Map<string, PlannedSession[]>();
  let i = 0;
  for (const s of waiting) {
    const heldBefore = (agentId: string) => s.movedFrom.some((m) => m.agentId === agentId);
    const target = spare.find((x) => x.free > 0 && !heldBefore(x.a.agentId)) ?? spare.find((x) => x.free > 0);
    if (!target) break;
    target.free -= 1;
    s.attempt += 1;
    s.agentId = target.a.agentId;
    s.phase = 'pending';
    s.current = null;
    const list = parts.get(target.a.agentId) ?? [];
    list.push({ sessionId: attemptId(s.slot, s.attempt), startOffsetMs: i * state.config.reassignSpacingMs });
    parts.set(target.a.agentId, list);
    i += 1;
  }
  if (parts.size === 0) return;
  const assigns: Command[] = [];
  for (const [agentId, sessions] of parts) {
    const a = state.agents.get(agentId)!;
    a.inRun = true;
    a.finished = null; // it has new work: its earlier run:finished no longer closes its share
    const part = state.nextPart++;
    a.sentParts.push(part);
    for (const ps of sessions) state.slots.get(parseSessionId(ps.sessionId).slot)!.part = part;
    assigns.push({ kind: 'assign', agentId, part, sessions, startAt, durationMs });
    out.push({ kind: 'note', text: `reassigned ${sessions.length} session(s) to ${a.name} (part ${part}): ${sessions.map((x) => x.sessionId).join(', ')}` });
  }
  // Durable first: a controller that dies after sending a part must know who holds it.
  out.push({ kind: 'persist' }, ...assigns);
  // The bound makes room for the new parts: the lead, their ramp, one session each, and the drain.
  out.push({
    kind: 'extend',
    key: 'bound',
    ms: state.config.startLeadMs + i * state.config.reassignSpacingMs + (durationMs ?? 0) + state.config.sessionTimeoutMs + state.config.drainMs,
  });
  const left = waiting.length - i;
  if (left > 0) out.push({ kind: 'note', text: `${left} session(s) wait for spare capacity` });
}

/** Sessions an agent holds now (pending or running) for this run. */
function activeOn(state: MachineState, agentId: string): number {
  let n = 0;
  for (const s of state.slots.values()) if (s.agentId === agentId && (s.phase === 'pending' || s.phase === 'running')) n += 1;
  return n;
}

function missingSeqs(a: AgentInRun): number[] {
  const out: number[] = [];
  for (let s = 1; s <= (a.finished?.lastSeq ?? 0); s++) if (!a.seqs.has(s)) out.push(s);
  return out;
}

function missingBatches(state: MachineState): string[] {
  return [...state.agents.values()]
    .filter((a) => a.inRun && missingSeqs(a).length > 0)
    .map((a) => `${a.name} batches ${missingSeqs(a).join(', ')} of ${a.finished!.lastSeq}`);
}

function beginAbort(state: MachineState, reason: string, out: Command[]): void {
  if (state.phase !== 'running') return;
  state.phase = 'aborting';
  state.abortReason = reason;
  for (const a of state.agents.values()) {
    if (a.inRun && a.connected && a.finished === null) out.push({ kind: 'abort', agentId: a.agentId, reason });
  }
  out.push({
    kind: 'note',
    text: `aborting run ${state.config.runId}: ${reason}; waiting up to ${Math.round(state.config.drainMs / 1000)} s for agents to flush`,
  });
  out.push({ kind: 'timer', key: 'abort', ms: state.config.drainMs });
}

/**
 * The run is done when every agent still in it finished and every batch it
 * announced is stored. Slots still waiting then will not run: every agent that
 * could have taken them has finished, and spare capacity was offered at each event.
 */
function checkDone(state: MachineState, out: Command[]): void {
  if (state.phase === 'ended') return;
  // After every event: a loop that stops at the first agent still working, not a copy of the fleet.
  for (const a of state.agents.values()) if (a.inRun && !a.lost && a.finished === null) return;
  const inRun = [...state.agents.values()].filter((a) => a.inRun && !a.lost);
  const complete = inRun.every((a) => missingSeqs(a).length === 0);
  if (state.phase === 'aborting') {
    if (complete) finish(state, { kind: 'aborted', reason: state.abortReason ?? 'aborted' }, out);
    return;
  }
  const waiting = [...state.slots.values()].filter((s) => s.phase === 'waiting');
  if (waiting.length > 0) {
    for (const s of waiting) s.phase = 'over';
    out.push({ kind: 'note', text: `${waiting.length} session(s) waiting for spare capacity will not run: every agent has finished` });
  }
  if (complete) {
    finish(state, { kind: 'completed' }, out);
    return;
  }
  if (!state.drainArmed) {
    state.drainArmed = true;
    out.push({ kind: 'timer', key: 'drain', ms: state.config.drainMs });
  }
}

/** The slot's agent has reported its share finished (so the slot ran, whatever its record says). */
function finishedHolder(state: MachineState, s: Slot): boolean {
  return s.agentId !== null && (state.agents.get(s.agentId)?.finished ?? null) !== null;
}

function finish(state: MachineState, reason: EndReason, out: Command[]): void {
  if (state.phase === 'ended') return;
  const wasAborting = state.phase === 'aborting';
  state.phase = 'ended';
  state.end = reason;
  // What never started is over — unless its agent reported its share finished: then it ran, and only its record is missing.
  for (const s of state.slots.values()) {
    if (s.phase === 'waiting' || (s.phase === 'pending' && reason.kind !== 'completed' && !finishedHolder(state, s))) s.phase = 'over';
  }
  // Whatever ends the run, no agent keeps running sessions for it.
  if (reason.kind !== 'completed' && !wasAborting) {
    const why = endText(reason);
    for (const a of state.agents.values())
      if (a.inRun && a.connected && a.finished === null) out.push({ kind: 'abort', agentId: a.agentId, reason: why.slice(0, 500) });
  }
  for (const a of state.agents.values()) out.push({ kind: 'cancel', key: `loss:${a.agentId}` });
  out.push({ kind: 'cancel', key: 'drain' }, { kind: 'cancel', key: 'abort' }, { kind: 'cancel', key: 'bound' });
  out.push({ kind: 'persist' }, { kind: 'end', reason });
}

/**
 * A restored state learns what is already durable (a re-adopted run, a
 * reconcile): each agent's stored batch seqs, and the session records stored.
 */
export function noteStored(
  state: MachineState,
  seqs: ReadonlyMap<string, readonly number[]>,
  records: readonly { readonly sessionId: string; readonly status: SessionStatus }[],
): void {
  for (const [agentId, list] of seqs) {
    const a = state.agents.get(agentId);
    if (a) for (const seq of list) a.seqs.add(seq);
  }
  for (const r of records) settleSlot(state, r.sessionId, r.status);
}

/**
 * Judge a run from what is stored, with no controller following it any more
 * (`controller reconcile`): a slot still running is lost, one not started did
 * not run. A verdict about data (batches not there in time) is judged again on
 * what is stored now; one about the run's course (aborted, an agent lost with
 * --on-agent-loss fail, a refused start) stays.
 */
export function judgeStored(state: MachineState): EndReason {
  for (const s of state.slots.values()) {
    if (s.phase === 'running' || s.phase === 'lost') {
      if (s.status === null) state.lostSessions.add(s.current ?? attemptId(s.slot, s.attempt));
      s.phase = 'lost';
    } else if (s.phase === 'waiting' || (s.phase === 'pending' && !finishedHolder(state, s))) {
      s.phase = 'over';
    }
  }
  state.phase = 'ended';
  const end = state.end;
  if (end === null || end.kind === 'drain-timeout' || end.kind === 'bound') {
    const inRun = [...state.agents.values()].filter((a) => a.inRun && !a.lost);
    if (end?.kind === 'bound' && !inRun.every((a) => a.finished !== null)) return end;
    const missing = missingBatches(state);
    state.end = missing.length > 0 ? { kind: 'drain-timeout', missing } : { kind: 'completed' };
  }
  return state.end!;
}

/** One line for an end reason. */
export function endText(r: EndReason): string {
  switch (r.kind) {
    case 'completed':
      return 'completed';
    case 'aborted':
      return `run aborted: ${r.reason}`;
    case 'start-failed':
      return `run could not start: ${r.reason}`;
    case 'agent-lost':
      return `agent ${r.name} was lost mid-run (${r.reason}) and --on-agent-loss is fail`;
    case 'drain-timeout':
      return `every agent finished but not all batches arrived: ${r.missing.join('; ')}; they stay in the agents' spools and are stored when delivered`;
    case 'bound':
      return `run did not finish within its bound (agents still running: ${r.running.join(', ') || 'none'})`;
    default: {
      const never: never = r;
      throw new Error(`unhandled end ${JSON.stringify(never)}`);
    }
  }
}

/** What the summary needs of the machine: planned slots and what became of them. */
export interface RunOutcomeCounts {
  readonly planned: number;
  readonly reassigned: number;
  readonly lost: readonly string[];
  readonly notRun: readonly string[];
}

export function outcomeCounts(state: MachineState): RunOutcomeCounts {
  const slots = [...state.slots.values()];
  return {
    planned: slots.length,
    reassigned: slots.filter((s) => s.attempt > 1).length,
    lost: [...state.lostSessions].sort(),
    notRun: slots
      .filter((s) => s.phase === 'over' && s.status === null)
      .map((s) => s.slot)
      .sort(),
  };
}
