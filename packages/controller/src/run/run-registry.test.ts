import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type MetricBatch } from '@userprobe/shared';
import { checkBatch, RUN_TIME_SLACK_MS } from './run-registry.js';
import type { RunStateFile } from './run-state-file.js';

const T0 = Date.UTC(2026, 10, 29, 12);
const file: RunStateFile = {
  version: 2,
  runId: 'run-1',
  status: 'open',
  scenario: 'chat-load',
  browser: 'shell',
  targetName: 'demo',
  total: 4,
  startedAt: T0,
  startAt: T0 + 1_500,
  deadlineAt: T0 + 600_000,
  durationMs: null,
  config: { onAgentLoss: 'reassign', lossGraceMs: 15_000, drainMs: 30_000, startLeadMs: 1_500, reassignSpacingMs: 1_000, sessionTimeoutMs: 120_000 },
  nextPart: 2,
  agents: [
    { agentId: 'a', name: 'A', capacity: 4, instanceId: null, inRun: true, parts: [0, 1], sentParts: [0, 1], finished: null, lost: false },
    { agentId: 'b', name: 'B', capacity: 4, instanceId: null, inRun: false, parts: [0], sentParts: [0], finished: null, lost: true },
    { agentId: 'c', name: 'C', capacity: 4, instanceId: null, inRun: false, parts: [], sentParts: [], finished: null, lost: false },
    { agentId: 'd', name: 'D', capacity: 4, instanceId: null, inRun: true, parts: [], sentParts: [], finished: null, lost: false }, // assigned, its accept not yet written
  ],
  slots: [
    { slot: 's1', agentId: 'a', attempt: 1, part: 0, current: null, offsetMs: 0, phase: 'done', status: 'ok', movedFrom: [] },
    {
      slot: 's2',
      agentId: 'a',
      attempt: 2,
      part: 1,
      current: null,
      offsetMs: 1_000,
      phase: 'pending',
      status: null,
      movedFrom: [{ agentId: 'b', attempt: 1 }],
    },
    { slot: 's3', agentId: 'b', attempt: 1, part: 0, current: 's3', offsetMs: 2_000, phase: 'lost', status: null, movedFrom: [] },
    { slot: 's4', agentId: 'd', attempt: 1, part: 0, current: null, offsetMs: 3_000, phase: 'pending', status: null, movedFrom: [] },
  ],
  lostSessions: ['s3'],
  end: null,
  endedAt: null,
};
const batch = (agentId: string, over: Partial<MetricBatch> = {}): MetricBatch => ({
  runId: 'run-1',
  agentId,
  seq: 1,
  createdAt: T0 + 5_000,
  samples: [{ sessionId: 's1', metric: 'page_load', value: 100, ts: T0 + 5_000 }],
  sessions: [],
  ...over,
});
const sample = (sessionId: string, ts = T0 + 5_000) => ({ sessionId, metric: 'page_load' as const, value: 1, ts });

describe("checkBatch: a batch is stored only for a run its agent was assigned, sessions of its share, times in the run's window", () => {
  const now = T0 + 60_000;
  it.each([
    ['its own session', file, 'a', batch('a'), { ok: true }],
    ['a reassigned attempt it holds', file, 'a', batch('a', { samples: [sample('s2.a2')] }), { ok: true }],
    ['the lost agent delivering its old sessions late (its spool)', file, 'b', batch('b', { samples: [sample('s3'), sample('s2')] }), { ok: true }],
    ['a duration round of its session (a run with a duration)', { ...file, durationMs: 60_000 }, 'a', batch('a', { samples: [sample('s1.r4')] }), { ok: true }],
    ['an agent whose acceptance is not written yet: its planned sessions decide', file, 'd', batch('d', { samples: [sample('s4')] }), { ok: true }],
  ] as const)('accepted: %s', (_n, f, agentId, b, want) => {
    expect(checkBatch(f, agentId, b, now)).toEqual(want);
  });

  it.each([
    [
      'an unknown run (no run-state.json): kept spooled for a controller that has it',
      null,
      'a',
      batch('a'),
      true,
      ERROR_CODES.RUN_UNKNOWN,
      /no record of run run-1/,
    ],
    ['an agent never assigned the run', file, 'c', batch('c'), false, ERROR_CODES.MESSAGE_INVALID, /agent c was never assigned run run-1/],
    ['an agent not in the run at all', file, 'z', batch('z'), false, ERROR_CODES.MESSAGE_INVALID, /agent z was never assigned/],
    [
      "a session of another agent's share",
      file,
      'a',
      batch('a', { samples: [sample('s3')] }),
      true,
      ERROR_CODES.MESSAGE_INVALID,
      /session\(s\) s3 of run run-1 were not assigned to agent a/,
    ],
    [
      'a session the run never planned',
      file,
      'a',
      batch('a', { samples: [sample('s9')] }),
      true,
      ERROR_CODES.MESSAGE_INVALID,
      /s9.*as far as this controller has written yet/,
    ],
    [
      'a session the run never planned, run closed: final',
      { ...file, status: 'closed' as const, endedAt: T0 + 30_000 },
      'a',
      batch('a', { samples: [sample('s9')] }),
      false,
      ERROR_CODES.MESSAGE_INVALID,
      /s9/,
    ],
    ['an attempt it never held', file, 'a', batch('a', { samples: [sample('s2.a7')] }), true, ERROR_CODES.MESSAGE_INVALID, /s2\.a7/],
    ['a round in a run without a duration', file, 'a', batch('a', { samples: [sample('s1.r4')] }), true, ERROR_CODES.MESSAGE_INVALID, /s1\.r4/],
    [
      'a closed run: times after its end (past the slack)',
      { ...file, status: 'closed' as const, endedAt: T0 + 30_000 },
      'a',
      batch('a', { samples: [sample('s1', T0 + 30_000 + RUN_TIME_SLACK_MS + 1)] }),
      false,
      ERROR_CODES.MESSAGE_INVALID,
      /outside/,
    ],
    [
      'a record of a foreign session',
      { ...file, status: 'closed' as const, endedAt: T0 + 30_000 },
      'a',
      batch('a', {
        samples: [],
        sessions: [
          {
            sessionId: 's3',
            scenario: 'chat-load',
            browser: 'shell',
            status: 'ok',
            startedAt: T0 + 2_000,
            endedAt: T0 + 3_000,
            failedStep: null,
            error: null,
            artifacts: [],
          },
        ],
      }),
      false,
      ERROR_CODES.MESSAGE_INVALID,
      /s3/,
    ],
    [
      'a sample before the run started (past the slack)',
      file,
      'a',
      batch('a', { samples: [sample('s1', T0 - RUN_TIME_SLACK_MS - 1)] }),
      false,
      ERROR_CODES.MESSAGE_INVALID,
      /outside run run-1's window/,
    ],
    [
      'a sample from the future (past the slack)',
      file,
      'a',
      batch('a', { samples: [sample('s1', now + RUN_TIME_SLACK_MS + 1)] }),
      false,
      ERROR_CODES.MESSAGE_INVALID,
      /outside/,
    ],
  ] as const)('refused: %s', (_n, f, agentId, b, retryable, code, reason) => {
    const v = checkBatch(f, agentId, b, now);
    expect(v).toMatchObject({ ok: false, retryable, code });
    if (!v.ok) expect(v.reason).toMatch(reason);
  });
});
