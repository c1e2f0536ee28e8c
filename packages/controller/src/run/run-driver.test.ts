import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { Assignment } from '@userprobe/shared';
import { FakePool } from '../../test/fake-pool.js';
import { RunDriver } from './run-driver.js';
import { startRun, type MachineConfig } from './run-machine.js';

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
    const h = pool.add('a1', 2, (a) => {
      order.push(`assign part ${a.part}`);
      return { accepted: true };
    });
    void h;
    const agents = [{ agentId: 'a1', name: 'fake-a1', capacity: 2, instanceId: 'instance-1' }];
    const first = startRun(config, agents, [{ agentId: 'a1', sessions: [{ sessionId: 's1', startOffsetMs: 0 }] }], Date.now(), null);
    const driver = new RunDriver(first.state, {
      pool,
      progress,
      log,
      now: Date.now,
      scenario: 'chat-load',
      assignment: (p) => ({ runId: 'r1', part: p.part, sessions: [...p.sessions] }) as unknown as Assignment,
      persist: async () => {
        await new Promise((r) => setTimeout(r, 30));
        order.push('persisted');
      },
    });
    void driver.start(first.commands, 5_000);
    await new Promise((r) => setTimeout(r, 80));
    expect(order.slice(0, 2)).toEqual(['persisted', 'assign part 0']);
    driver.abort('test over');
  });
});
