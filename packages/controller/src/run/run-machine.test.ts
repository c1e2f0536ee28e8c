import { describe, expect, it } from 'vitest';
import type { AgentRunState, PlannedSession, RunFinished } from '@userprobe/shared';
import { outcomeCounts, startRun, step, type Command, type MachineConfig, type MachineEvent, type MachineState } from './run-machine.js';
import { parseSessionId, attemptId } from './session-ids.js';

const config = (over: Partial<MachineConfig> = {}): MachineConfig => ({
  runId: 'r1',
  onAgentLoss: 'reassign',
  lossGraceMs: 15_000,
  drainMs: 30_000,
  startLeadMs: 1_500,
  reassignSpacingMs: 1_000,
  durationMs: null,
  sessionTimeoutMs: 120_000,
  ...over,
});
const sessions = (...ids: string[]): PlannedSession[] => ids.map((sessionId, i) => ({ sessionId, startOffsetMs: i * 1_000 }));
const A = { agentId: 'a', name: 'A', capacity: 4, instanceId: 'a-1' };
const B = { agentId: 'b', name: 'B', capacity: 4, instanceId: 'b-1' };
const C = { agentId: 'c', name: 'C', capacity: 8, instanceId: 'c-1' };
const fin = (lastSeq: number, ok = 0, failed = 0, parts?: number[]): RunFinished => ({ runId: 'r1', lastSeq, ok, failed, ...(parts ? { parts } : {}) });
const held = (over: Partial<AgentRunState> = {}): AgentRunState[] => [{ runId: 'r1', lastSeq: 0, running: [], pending: 0, finished: false, ...over }];

/** A tiny driver: feed events, keep every command. */
function machine(
  cfg = config(),
  agents = [A, B],
  shares = [
    { agentId: 'a', sessions: sessions('s1', 's3') },
    { agentId: 'b', sessions: sessions('s2', 's4') },
  ],
) {
  const first = startRun(cfg, agents, shares, 1_000, cfg.durationMs);
  let state: MachineState = first.state;
  const log: Command[] = [...first.commands];
  let now = 1_000;
  return {
    get state() {
      return state;
    },
    log,
    at(t: number) {
      now = t;
      return this;
    },
    send(...events: MachineEvent[]): Command[] {
      const out: Command[] = [];
      for (const e of events) {
        const r = step(state, e, now);
        state = r.state;
        out.push(...r.commands);
      }
      log.push(...out);
      return out;
    },
    /** A session runs to an ok record in batch `seq`. */
    runs(agentId: string, sessionId: string, seq: number): MachineEvent[] {
      return [
        { kind: 'progress', agentId, sessionId, phase: 'started' },
        { kind: 'progress', agentId, sessionId, phase: 'finished' },
        { kind: 'batch', agentId, seq, records: [{ sessionId, status: 'ok' }] },
      ];
    },
  };
}
const kinds = (cs: Command[]) => cs.map((c) => c.kind);
const of = <K extends Command['kind']>(cs: Command[], kind: K) => cs.filter((c): c is Extract<Command, { kind: K }> => c.kind === kind);

describe('session ids', () => {
  it.each([
    ['s0003', { slot: 's0003', attempt: 1, round: 0 }],
    ['s0003.r2', { slot: 's0003', attempt: 1, round: 2 }],
    ['s0003.a2', { slot: 's0003', attempt: 2, round: 0 }],
    ['s0003.a3.r1', { slot: 's0003', attempt: 3, round: 1 }],
    ['x.y', { slot: 'x.y', attempt: 1, round: 0 }],
  ])('%s', (id, want) => {
    expect(parseSessionId(id)).toEqual(want);
  });
  it('attempt ids', () => {
    expect([attemptId('s1', 1), attemptId('s1', 2)]).toEqual(['s1', 's1.a2']);
  });
});

describe('run machine', () => {
  it('assigns part 0 of every share, and completes when every agent finished with every batch stored', () => {
    const m = machine();
    expect(of(m.log, 'assign').map((c) => [c.agentId, c.part, c.sessions.map((s) => s.sessionId)])).toEqual([
      ['a', 0, ['s1', 's3']],
      ['b', 0, ['s2', 's4']],
    ]);
    m.send({ kind: 'assigned', agentId: 'a', part: 0, accepted: true }, { kind: 'assigned', agentId: 'b', part: 0, accepted: true });
    m.send(...m.runs('a', 's1', 1), ...m.runs('a', 's3', 2), ...m.runs('b', 's2', 1), ...m.runs('b', 's4', 2));
    m.send({ kind: 'finished', agentId: 'a', finished: fin(2, 2) });
    expect(m.state.phase).toBe('running');
    const out = m.send({ kind: 'finished', agentId: 'b', finished: fin(2, 2) });
    expect(of(out, 'end')).toEqual([{ kind: 'end', reason: { kind: 'completed' } }]);
    expect(of(out, 'abort')).toEqual([]); // a completed run has no one to stop
    expect(outcomeCounts(m.state)).toEqual({ planned: 4, reassigned: 0, lost: [], notRun: [] });
  });

  it('a finished agent whose batches are not all stored: waits the drain, then ends naming what is missing', () => {
    const m = machine(config(), [A], [{ agentId: 'a', sessions: sessions('s1') }]);
    m.send(...m.runs('a', 's1', 1));
    const out = m.send({ kind: 'finished', agentId: 'a', finished: fin(3, 1) });
    expect(of(out, 'timer')).toEqual([{ kind: 'timer', key: 'drain', ms: 30_000 }]);
    m.send({ kind: 'batch', agentId: 'a', seq: 3, records: [] });
    const end = m.send({ kind: 'timer', key: 'drain' });
    expect(of(end, 'end')[0]!.reason).toEqual({ kind: 'drain-timeout', missing: ['A batches 2 of 3'] });
  });

  it('an agent back within the grace keeps its share: the loss timer is set, then cancelled', () => {
    const m = machine();
    const gone = m.send({ kind: 'disconnected', agentId: 'a', reason: 'transport close' });
    expect(of(gone, 'timer')).toEqual([{ kind: 'timer', key: 'loss:a', ms: 15_000 }]);
    const back = m.at(5_000).send({ kind: 'connected', agent: A, runs: held({ running: ['s1'], pending: 1 }) });
    expect(of(back, 'cancel')).toEqual([{ kind: 'cancel', key: 'loss:a' }]);
    expect(of(back, 'resume')).toEqual([{ kind: 'resume', agentId: 'a', revoked: [], reason: 'back in reach' }]); // it holds starts until this
    expect(kinds(back)).not.toContain('assign');
    expect(m.state.agents.get('a')!.lost).toBe(false);
  });

  it('an agent gone past the grace: its running session is lost, its unstarted ones go to an agent with spare capacity as new attempts', () => {
    const m = machine();
    m.send({ kind: 'progress', agentId: 'a', sessionId: 's1', phase: 'started' }, { kind: 'disconnected', agentId: 'a', reason: 'ping timeout' });
    const out = m.at(20_000).send({ kind: 'timer', key: 'loss:a' });
    expect(of(out, 'assign')).toEqual([
      { kind: 'assign', agentId: 'b', part: 1, sessions: [{ sessionId: 's3.a2', startOffsetMs: 0 }], startAt: 21_500, durationMs: null },
    ]);
    m.send({ kind: 'assigned', agentId: 'b', part: 1, accepted: true });
    m.send(...m.runs('b', 's2', 1), ...m.runs('b', 's4', 2), ...m.runs('b', 's3.a2', 3));
    const end = m.send({ kind: 'finished', agentId: 'b', finished: fin(3, 3, 0, [0, 1]) });
    expect(of(end, 'end')[0]!.reason).toEqual({ kind: 'completed' });
    expect(outcomeCounts(m.state)).toEqual({ planned: 4, reassigned: 1, lost: ['s1'], notRun: [] });
  });

  it('a part is written before it is sent, and pushes the bound back far enough for it', () => {
    const m = machine();
    m.send({ kind: 'disconnected', agentId: 'a', reason: 'x' });
    const out = m.at(20_000).send({ kind: 'timer', key: 'loss:a' });
    const order = kinds(out).filter((k) => k === 'persist' || k === 'assign' || k === 'extend');
    expect(order.slice(0, 3)).toEqual(['persist', 'persist', 'assign']);
    expect(of(out, 'extend')).toEqual([{ kind: 'extend', key: 'bound', ms: 1_500 + 2 * 1_000 + 120_000 + 30_000 }]);
  });

  it('a run:finished made before the latest part was accepted does not close the share (review: the run ended with a part still to run)', () => {
    const m = machine(
      config(),
      [A, B],
      [
        { agentId: 'a', sessions: sessions('s1') },
        { agentId: 'b', sessions: sessions('s2') },
      ],
    );
    m.send({ kind: 'disconnected', agentId: 'a', reason: 'x' });
    m.send(...m.runs('b', 's2', 1));
    m.at(20_000).send({ kind: 'timer', key: 'loss:a' }); // s1 → b as part 1
    const stale = m.send({ kind: 'finished', agentId: 'b', finished: fin(1, 1, 0, [0]) });
    expect(kinds(stale)).not.toContain('end');
    expect(of(stale, 'note')[0]!.text).toMatch(/before part 1; waiting for the report that covers it/);
    m.send({ kind: 'assigned', agentId: 'b', part: 1, accepted: true }, ...m.runs('b', 's1.a2', 2));
    expect(of(m.send({ kind: 'finished', agentId: 'b', finished: fin(2, 2, 0, [0, 1]) }), 'end')[0]!.reason).toEqual({ kind: 'completed' });
  });

  it('a slot reassigned twice: each agent that comes back is told the exact attempt it held (review: s2 was revoked as s2, not s2.a2)', () => {
    const m = machine(
      config(),
      [A, B, C],
      [
        { agentId: 'a', sessions: sessions('s1') },
        { agentId: 'b', sessions: sessions('s2') },
      ],
    );
    m.send({ kind: 'disconnected', agentId: 'b', reason: 'x' });
    const first = m.at(20_000).send({ kind: 'timer', key: 'loss:b' });
    const to = of(first, 'assign')[0]!; // s2.a2 goes to the agent with most spare capacity (C)
    expect(to.sessions.map((x) => x.sessionId)).toEqual(['s2.a2']);
    m.send({ kind: 'disconnected', agentId: to.agentId, reason: 'x' });
    const second = m.at(40_000).send({ kind: 'timer', key: `loss:${to.agentId}` });
    expect(of(second, 'assign')[0]!.sessions.map((x) => x.sessionId)).toEqual(['s2.a3']);
    const backB = m.send({ kind: 'connected', agent: B, runs: held({ pending: 1 }) });
    expect(of(backB, 'resume')[0]!.revoked).toEqual(['s2']);
    const backC = m.send({
      kind: 'connected',
      agent: { ...C, agentId: to.agentId, name: 'X', instanceId: m.state.agents.get(to.agentId)!.instanceId! },
      runs: held({ pending: 1 }),
    });
    expect(of(backC, 'resume')[0]!.revoked).toEqual(['s2.a2']);
  });

  it('an agent back holding a run that is being aborted is told to abort it', () => {
    const m = machine();
    m.send({ kind: 'disconnected', agentId: 'a', reason: 'x' }, { kind: 'abort', reason: 'SIGINT' });
    const back = m.send({ kind: 'connected', agent: A, runs: held({ pending: 2 }) });
    expect(of(back, 'abort')).toEqual([{ kind: 'abort', agentId: 'a', reason: 'SIGINT' }]);
  });

  it("an agent whose hello says its share is over (its report went to a controller that died) counts as finished with the hello's lastSeq", () => {
    const m = machine(config(), [A], [{ agentId: 'a', sessions: sessions('s1') }]);
    m.send({ kind: 'assigned', agentId: 'a', part: 0, accepted: true }, ...m.runs('a', 's1', 1), { kind: 'disconnected', agentId: 'a', reason: 'x' });
    const out = m.send({ kind: 'connected', agent: A, runs: held({ lastSeq: 1, finished: true }) });
    expect(of(out, 'end')[0]!.reason).toEqual({ kind: 'completed' });
  });

  it('--on-agent-loss fail: the run ends at the grace and every other agent gets run:abort', () => {
    const m = machine(config({ onAgentLoss: 'fail' }));
    m.send({ kind: 'disconnected', agentId: 'a', reason: 'ping timeout' });
    const out = m.at(20_000).send({ kind: 'timer', key: 'loss:a' });
    expect(of(out, 'end')[0]!.reason).toMatchObject({ kind: 'agent-lost', agentId: 'a' });
    expect(of(out, 'abort').map((c) => c.agentId)).toEqual(['b']);
  });

  it('an agent back without the run (it restarted) is lost at once; being here, it can take its old sessions back', () => {
    const m = machine(
      config(),
      [A, B],
      [
        { agentId: 'a', sessions: sessions('s1', 's3') },
        { agentId: 'b', sessions: sessions('s2', 's4', 's5', 's6') },
      ],
    );
    m.send({ kind: 'progress', agentId: 'a', sessionId: 's1', phase: 'started' }, { kind: 'disconnected', agentId: 'a', reason: 'transport close' });
    const out = m.at(3_000).send({ kind: 'connected', agent: { ...A, instanceId: 'a-2' }, runs: [] });
    // B is full (4 of 4): the restarted A takes s3 back as a new attempt
    expect(of(out, 'assign')).toEqual([
      { kind: 'assign', agentId: 'a', part: 1, sessions: [{ sessionId: 's3.a2', startOffsetMs: 0 }], startAt: 4_500, durationMs: null },
    ]);
    expect(outcomeCounts(m.state).lost).toEqual(['s1']);
  });

  it('a restart is told by the instance id: a new process that already spooled the run (it reports it) is still a restart', async () => {
    const m = machine();
    m.send({ kind: 'progress', agentId: 'a', sessionId: 's1', phase: 'started' }, { kind: 'disconnected', agentId: 'a', reason: 'transport close' });
    const out = m.at(3_000).send({ kind: 'connected', agent: { ...A, instanceId: 'a-2' }, runs: held({ lastSeq: 2, finished: true }) });
    expect(
      of(out, 'note')
        .map((n) => n.text)
        .join('\n'),
    ).toMatch(/is back without this run \(it restarted\)/);
    expect(outcomeCounts(m.state).lost).toEqual(['s1']);
  });

  it('a lost agent that comes back holding the run: its reassigned sessions are revoked; the one it kept running counts when it ends', () => {
    const m = machine();
    m.send({ kind: 'progress', agentId: 'a', sessionId: 's1', phase: 'started' }, { kind: 'disconnected', agentId: 'a', reason: 'ping timeout' });
    m.at(20_000).send({ kind: 'timer', key: 'loss:a' });
    const back = m.at(25_000).send({ kind: 'connected', agent: A, runs: held({ running: ['s1'], pending: 1 }) });
    expect(of(back, 'resume')).toEqual([{ kind: 'resume', agentId: 'a', revoked: ['s3'], reason: expect.stringContaining('reassigned') }]);
    m.send({ kind: 'resumed', agentId: 'a', alreadyStarted: [] });
    m.send(
      { kind: 'progress', agentId: 'a', sessionId: 's1', phase: 'finished' },
      { kind: 'batch', agentId: 'a', seq: 1, records: [{ sessionId: 's1', status: 'ok' }] },
    );
    m.send({ kind: 'finished', agentId: 'a', finished: fin(1, 1) });
    m.send(...m.runs('b', 's2', 1), ...m.runs('b', 's4', 2), ...m.runs('b', 's3.a2', 3));
    const end = m.send({ kind: 'finished', agentId: 'b', finished: fin(3, 3) });
    expect(of(end, 'end')[0]!.reason).toEqual({ kind: 'completed' });
    expect(outcomeCounts(m.state)).toEqual({ planned: 4, reassigned: 1, lost: [], notRun: [] });
  });

  it('no spare capacity: the sessions wait, and are placed as soon as a session ends elsewhere', () => {
    const m = machine(config(), [A, { ...B, capacity: 2 }]);
    m.send({ kind: 'disconnected', agentId: 'a', reason: 'x' });
    const lost = m.at(20_000).send({ kind: 'timer', key: 'loss:a' });
    expect(of(lost, 'assign')).toEqual([]);
    const placed = m.send(...m.runs('b', 's2', 1));
    expect(of(placed, 'assign').map((c) => c.sessions.map((s) => s.sessionId))).toEqual([['s1.a2']]);
    const more = m.send(...m.runs('b', 's4', 2));
    expect(of(more, 'assign').map((c) => c.sessions.map((s) => s.sessionId))).toEqual([['s3.a2']]);
  });

  it('a late-joining agent takes the waiting sessions', () => {
    const m = machine(config(), [A, { ...B, capacity: 2 }]);
    m.send({ kind: 'disconnected', agentId: 'a', reason: 'x' });
    m.at(20_000).send({ kind: 'timer', key: 'loss:a' });
    const out = m.send({ kind: 'connected', agent: C, runs: [] });
    expect(of(out, 'assign')).toEqual([
      {
        kind: 'assign',
        agentId: 'c',
        part: 1,
        sessions: [
          { sessionId: 's1.a2', startOffsetMs: 0 },
          { sessionId: 's3.a2', startOffsetMs: 1_000 },
        ],
        startAt: 21_500,
        durationMs: null,
      },
    ]);
  });

  it('the only agent lost with nobody to take its sessions: the run ends with them not run and its running one lost', () => {
    const m = machine(config(), [A], [{ agentId: 'a', sessions: sessions('s1', 's2') }]);
    m.send({ kind: 'progress', agentId: 'a', sessionId: 's1', phase: 'started' }, { kind: 'disconnected', agentId: 'a', reason: 'x' });
    const out = m.at(20_000).send({ kind: 'timer', key: 'loss:a' });
    expect(of(out, 'end')[0]!.reason).toEqual({ kind: 'completed' });
    expect(outcomeCounts(m.state)).toEqual({ planned: 2, reassigned: 0, lost: ['s1'], notRun: ['s2'] });
  });

  it('abort: every agent in the run gets run:abort; the run ends when they have flushed, or at the abort timer', () => {
    const m = machine();
    const out = m.send({ kind: 'abort', reason: 'interrupted by SIGINT' });
    expect(of(out, 'abort').map((c) => c.agentId)).toEqual(['a', 'b']);
    expect(of(out, 'timer')).toEqual([{ kind: 'timer', key: 'abort', ms: 30_000 }]);
    m.send({ kind: 'finished', agentId: 'a', finished: fin(0) });
    const end = m.send({ kind: 'finished', agentId: 'b', finished: fin(0) });
    expect(of(end, 'end')[0]!.reason).toEqual({ kind: 'aborted', reason: 'interrupted by SIGINT' });
    const m2 = machine();
    m2.send({ kind: 'abort', reason: 'x' });
    expect(of(m2.send({ kind: 'timer', key: 'abort' }), 'end')[0]!.reason).toEqual({ kind: 'aborted', reason: 'x' });
  });

  it('a refused first assignment ends the run and stops the others; a refused later part puts its sessions back to wait', () => {
    const m = machine();
    const out = m.send({ kind: 'assigned', agentId: 'a', part: 0, accepted: false, reason: 'browser missing' });
    expect(of(out, 'end')[0]!.reason).toEqual({ kind: 'start-failed', reason: 'agent A refused its assignment: browser missing' });
    expect(of(out, 'abort').map((c) => c.agentId)).toEqual(['a', 'b']);

    const m2 = machine(config(), [A, B, { ...C, capacity: 1 }]);
    m2.send({ kind: 'disconnected', agentId: 'a', reason: 'x' });
    const moved = m2.at(20_000).send({ kind: 'timer', key: 'loss:a' });
    const toB = of(moved, 'assign').find((c) => c.agentId === 'b')!;
    const again = m2.send({ kind: 'assigned', agentId: 'b', part: toB.part, accepted: false, reason: 'shutting down' });
    expect(of(again, 'assign').map((c) => [c.agentId, c.sessions.map((s) => s.sessionId)])).toEqual([
      ['c', [`${toB.sessions[0]!.sessionId.split('.')[0]}.a3`]],
    ]);
  });

  it("with a duration, a lost agent's slots run on elsewhere for what is left of the duration", () => {
    const m = machine(config({ durationMs: 60_000 }));
    m.send({ kind: 'progress', agentId: 'a', sessionId: 's1.r3', phase: 'started' }, { kind: 'disconnected', agentId: 'a', reason: 'x' });
    const out = m.at(20_000).send({ kind: 'timer', key: 'loss:a' });
    const assign = of(out, 'assign')[0]!;
    expect(assign.sessions.map((s) => s.sessionId)).toEqual(['s1.a2', 's3.a2']);
    expect(assign.durationMs).toBe(1_000 + 60_000 - 21_500);
    expect(outcomeCounts(m.state).lost).toEqual(['s1.r3']);
  });

  it('a restored run that was already complete when its controller died ends at once (review: it ran to its bound)', () => {
    const m = machine(config(), [A], [{ agentId: 'a', sessions: sessions('s1') }]);
    m.state.agents.get('a')!.finished = fin(1, 1);
    m.state.agents.get('a')!.seqs.add(1);
    expect(of(m.send({ kind: 'restored' }), 'end')[0]!.reason).toEqual({ kind: 'completed' });
  });

  it('the bound ends a run that never finishes, naming the agents still running', () => {
    const m = machine();
    const out = m.send({ kind: 'timer', key: 'bound' });
    expect(of(out, 'end')[0]!.reason).toEqual({ kind: 'bound', running: ['A', 'B'] });
  });

  it('after the end, events decide nothing', () => {
    const m = machine();
    m.send({ kind: 'timer', key: 'bound' });
    expect(m.send({ kind: 'disconnected', agentId: 'a', reason: 'x' }, { kind: 'abort', reason: 'y' })).toEqual([]);
  });
});
