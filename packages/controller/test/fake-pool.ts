import { EventEmitter } from 'node:events';
import type { Assignment, AssignReply, ResumeReply, RunAbort, RunResume } from '@userprobe/shared';
import type { AgentHandle, AgentPool, AgentPoolEvents } from '../src/hub/agent-pool.js';
import { agentInfoFromHello } from '../src/hub/agent-pool.js';
import { hello } from './fixtures.js';

/** An in-memory AgentPool for coordinator tests (no sockets). */
export class FakePool extends EventEmitter<AgentPoolEvents> implements AgentPool {
  readonly list: FakeHandle[] = [];
  agents(): readonly AgentHandle[] {
    return this.list;
  }
  agent(agentId: string): AgentHandle | undefined {
    return this.list.find((h) => h.info.agentId === agentId);
  }
  add(agentId: string, chatCapacity: number, onAssign?: (a: Assignment, h: FakeHandle) => AssignReply, labels: Record<string, string> = {}): FakeHandle {
    const h = new FakeHandle(agentId, chatCapacity, onAssign, labels);
    this.list.push(h);
    this.emit('agent:connected', h);
    return h;
  }
  drop(agentId: string, reason = 'transport close'): void {
    const i = this.list.findIndex((h) => h.info.agentId === agentId);
    const [h] = this.list.splice(i, 1);
    this.emit('agent:disconnected', { agentId, name: h!.info.name, reason });
  }
}

export class FakeHandle implements AgentHandle {
  readonly hello;
  readonly info;
  readonly assignments: Assignment[] = [];
  readonly aborts: RunAbort[] = [];
  readonly #onAssign: ((a: Assignment, h: FakeHandle) => AssignReply) | undefined;
  constructor(agentId: string, chatCapacity: number, onAssign?: (a: Assignment, h: FakeHandle) => AssignReply, labels: Record<string, string> = {}) {
    this.#onAssign = onAssign;
    this.hello = hello({ agentId, name: `fake-${agentId}`, labels, capacity: { 'chat-load': chatCapacity, 'video-call': 0, cobrowse: 0 } });
    this.info = agentInfoFromHello(this.hello);
  }
  assign(a: Assignment): Promise<AssignReply> {
    this.assignments.push(a);
    return Promise.resolve(this.#onAssign ? this.#onAssign(a, this) : { accepted: true });
  }
  readonly resumes: RunResume[] = [];
  abort(a: RunAbort): void {
    this.aborts.push(a);
  }
  resume(r: RunResume): Promise<ResumeReply> {
    this.resumes.push(r);
    return Promise.resolve({ revoked: [...r.revoked], alreadyStarted: [] });
  }
}
