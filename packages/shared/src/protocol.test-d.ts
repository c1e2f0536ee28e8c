import { expectTypeOf, test } from 'vitest';
import type { Server } from 'socket.io';
import type { Socket } from 'socket.io-client';
import type { AgentToController, ControllerToAgent } from './protocol.js';
import type { BatchAck, MetricBatch, Assignment, AssignReply } from './messages.js';

declare const server: Server<AgentToController, ControllerToAgent>;
declare const agent: Socket<ControllerToAgent, AgentToController>;
declare const batch: MetricBatch;
declare const assignment: Assignment;

test('the two event maps type both ends of the wire', () => {
  server.on('connection', (socket) => {
    socket.on('metrics:batch', (b, ack) => {
      expectTypeOf(b).toEqualTypeOf<MetricBatch>();
      expectTypeOf(ack).parameter(0).toEqualTypeOf<BatchAck>();
    });
    // @ts-expect-error: not an agent → controller event
    socket.on('metrics:batches', () => {});
    socket.emit('run:assign', assignment, (reply) => {
      expectTypeOf(reply).toEqualTypeOf<AssignReply>();
    });
    // @ts-expect-error: run:assign takes an Assignment, not a batch
    socket.emit('run:assign', batch, () => {});
  });

  agent.emit('metrics:batch', batch, (ack) => expectTypeOf(ack).toEqualTypeOf<BatchAck>());
  // @ts-expect-error: payload of the wrong shape
  agent.emit('metrics:batch', { runId: 'r' }, () => {});
  // @ts-expect-error: controller → agent events cannot be emitted by the agent
  agent.emit('run:abort', { runId: 'r', reason: 'x' });
  agent.on('run:assign', (a, ack) => {
    expectTypeOf(a).toEqualTypeOf<Assignment>();
    ack({ accepted: true });
    // @ts-expect-error: a refusal needs code and reason
    ack({ accepted: false });
  });
});
