import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { Assignment } from '@userprobe/shared';
import { FakePool } from '../../test/fake-pool.js';
import { RunDriver, type RunDriverDeps } from './run-driver.js';
import { startRun, type MachineConfig, type MachineState } from './run-machine.js';

const config: MachineConfig = {
  runId: 'r1',
  onAgentLoss: 'reassign',
  lossGraceMs: 50,
  drainMs: 200,
  startLeadMs: 0,
  reassignSpacingMs: 0,
  durationMs: null,
  sessionTimeoutMs: 1_000,
};
const log = pino({ level: 'silent' });
const notes: string[] = [];
const progress = {
  note: (l: string) => {
    notes.push(l);
  },
  session: () => undefined,
  plan: () => undefined,
  reshare: () => undefined,
  flush: () => undefined,
};

/** A driver over `pool` whose assignments are bare parts and whose state writes are `persist`. */
function newDriver(state: MachineState, pool: FakePool, persist: RunDriverDeps['persist']): RunDriver {
  return new RunDriver(state, {
    pool,
    progress,
    log,
    now: Date.now,
    scenario: 'chat-load',
    assignment: (p) => ({ runId: 'r1', part: p.part, sessions: [...p.sessions] }) as unknown as Assignment,
    persist,
  });
}

function driverFor(pool: FakePool, over: { assignment?: () => Assignment } = {}) {
  const agents = pool.list.map((h) => ({ agentId: h.info.agentId, name: h.info.name, capacity: h.info.capacity['chat-load'], instanceId: h.hello.instanceId }));
  const first = startRun(config, agents, [{ agentId: agents[0]!.agentId, sessions: [{ sessionId: 's1', startOffsetMs: 0 }] }], Date.now(), null);
  const persisted: string[] = [];
  const driver = new RunDriver(first.state, {
    pool,
    progress,
    log,
    now: Date.now,
    scenario: 'chat-load',
    assignment: over.assignment ?? ((p) => ({ runId: 'r1', part: p.part, sessions: [...p.sessions] }) as unknown as Assignment),
    persist: async (s) => {
      persisted.push(s.phase);
    },
  });
  return { driver, first, persisted };
}

describe('RunDriver', () => {
  it('an abort that came before the start leaves nothing to assign (review: the assignments were still sent)', async () => {
    const pool = new FakePool();
    const h = pool.add('a1', 2);
    const { driver, first } = driverFor(pool);
    driver.abort('interrupted by SIGINT');
    const ended = driver.start(first.commands, 5_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.assignments).toEqual([]);
    expect((await ended).kind).toBe('aborted');
  });

  it("an assignment that cannot be made is the agent's refusal, with the reason, not an exception on the hub's event path", async () => {
    const pool = new FakePool();
    pool.add('a1', 2);
    const { driver, first } = driverFor(pool, {
      assignment: () => {
        throw new Error('run r1 has no assignment.json');
      },
    });
    const end = await driver.start(first.commands, 5_000);
    expect(end).toEqual({ kind: 'start-failed', reason: 'agent fake-a1 refused its assignment: run r1 has no assignment.json' });
  });

  it('sends an assignment only after the state it belongs to is written', async () => {
    const pool = new FakePool();
    const order: string[] = [];
    let assigned = (): void => undefined;
    const wasAssigned = new Promise<void>((res) => (assigned = res));
    const h = pool.add('a1', 2, (a) => {
      order.push(`assign part ${a.part}`);
      assigned();
      return { accepted: true };
    });
    void h;
    const agents = [{ agentId: 'a1', name: 'fake-a1', capacity: 2, instanceId: 'instance-1' }];
    const first = startRun(config, agents, [{ agentId: 'a1', sessions: [{ sessionId: 's1', startOffsetMs: 0 }] }], Date.now(), null);
    const driver = newDriver(first.state, pool, async () => {
      await new Promise((r) => setTimeout(r, 30));
      order.push('persisted');
    });
    void driver.start(first.commands, 5_000);
    // Waits for the assignment, not for a time: an 80 ms sleep here raced the 30 ms write, and a stall between creating
    // the two timers would have ended the sleep first.
    await wasAssigned;
    expect(order.slice(0, 2)).toEqual(['persisted', 'assign part 0']);
    driver.abort('test over');
  });
  it('state writes coalesce: while one is under way, any number of persists make one more write, of the state as it is then', async () => {
    const pool = new FakePool();
    const n = 50;
    const ids = Array.from({ length: n }, (_, i) => `a${i}`);
    for (const id of ids) pool.add(id, 1, () => ({ accepted: true }));
    const agents = ids.map((id) => ({ agentId: id, name: `fake-${id}`, capacity: 1, instanceId: 'instance-1' }));
    const first = startRun(
      config,
      agents,
      ids.map((id, i) => ({ agentId: id, sessions: [{ sessionId: `s${String(i + 1).padStart(4, '0')}`, startOffsetMs: 0 }] })),
      Date.now(),
      null,
    );
    const writes: number[] = [];
    let writing = Promise.resolve();
    const driver = newDriver(first.state, pool, async (st) => {
      writing = new Promise((r) => setTimeout(r, 20));
      await writing;
      writes.push([...st.agents.values()].filter((a) => a.finished !== null).length);
    });
    const ended = driver.start(first.commands, 10_000);
    await new Promise((r) => setTimeout(r, 60)); // the plan written, every part sent
    const before = writes.length;
    // every agent reports its share finished at once: each report asks for a write
    for (const [i, id] of ids.entries()) {
      pool.emit('progress', id, { runId: 'r1', sessionId: `s${String(i + 1).padStart(4, '0')}`, phase: 'finished' });
      pool.emit('batch', { runId: 'r1', agentId: id, seq: 1, duplicate: false, samples: 1, sessions: 1, records: [] });
      pool.emit('finished', id, { runId: 'r1', lastSeq: 1, ok: 1, failed: 0, parts: [0] });
    }
    expect((await ended).kind).toBe('completed');
    await writing;
    await new Promise((r) => setTimeout(r, 50));
    // at most: the write under way when the reports came, one for all of them, and the run's end
    expect(writes.length - before).toBeLessThanOrEqual(3);
    expect(writes.at(-1)).toBe(n);
  });
});
