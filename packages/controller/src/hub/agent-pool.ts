import type { EventEmitter } from 'node:events';
import type { AgentStatus, Assignment, AssignReply, Hello, ResumeReply, RunAbort, RunFinished, RunResume, SessionProgress } from '@userprobe/shared';
import type { AgentInfo } from '../results/sink.js';
import type { IngestedEvent } from './ingest.js';

/*
 * What the run coordinator sees of the connected agents: the seam between the
 * coordinator and its transport. The socket.io hub implements it; coordinator
 * tests drive it with an in-memory fake.
 */

export interface AgentHandle {
  readonly info: AgentInfo;
  readonly hello: Hello;
  /** Send an assignment and wait for the agent's reply (rejects on timeout or an invalid reply). */
  assign(assignment: Assignment, timeoutMs: number): Promise<AssignReply>;
  abort(abort: RunAbort): void;
  /** Let a reconnected agent go on with a run, taking back sessions that went elsewhere (rejects on timeout or an invalid reply). */
  resume(resume: RunResume, timeoutMs: number): Promise<ResumeReply>;
}

export interface AgentPoolEvents {
  'agent:connected': [AgentHandle];
  'agent:disconnected': [{ readonly agentId: string; readonly name: string; readonly reason: string }];
  progress: [agentId: string, progress: SessionProgress];
  finished: [agentId: string, finished: RunFinished];
  status: [agentId: string, status: AgentStatus];
  /** A batch became durable (or was recognised as a duplicate). */
  batch: [IngestedEvent];
}

export interface AgentPool extends Pick<EventEmitter<AgentPoolEvents>, 'on' | 'off' | 'once'> {
  /** Agents connected now, in connection order. */
  agents(): readonly AgentHandle[];
  /** The connected agent with this id, if any: a lookup, not a walk over the fleet (a run over 5,000 agents asks once per agent). */
  agent(agentId: string): AgentHandle | undefined;
}

/** labels.region, or 'local': the `location` of every sample from this agent. */
export function agentInfoFromHello(hello: Hello): AgentInfo {
  return {
    agentId: hello.agentId,
    name: hello.name,
    labels: hello.labels,
    capacity: hello.capacity,
    location: hello.labels['region'] ?? 'local',
  };
}
