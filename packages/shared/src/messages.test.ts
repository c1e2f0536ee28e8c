import { describe, expect, it } from 'vitest';
import { AGENT_TO_CONTROLLER_SCHEMAS, CONTROLLER_TO_AGENT_SCHEMAS, REPLY_SCHEMAS, parseMessage } from './protocol.js';
import { HelloSchema, AuthRejectionSchema, CapacitySchema, LabelsSchema, type AssignmentInput } from './messages.js';
import { HELLO_MAX_LABELS, LABEL_KEY_MAX_CHARS, LABEL_VALUE_MAX_CHARS } from './limits.js';
import { formatIssues } from './protocol.js';
import { MessageError, ERROR_CODES } from './errors.js';
import { MAX_EPOCH_MS, MIN_EPOCH_MS } from './limits.js';
import { BUNDLED_PROFILES, parseProfile } from './profile.js';
import { readFileSync } from 'node:fs';

const profile = parseProfile(readFileSync(BUNDLED_PROFILES.demo!, 'utf8'), 'demo profile', {
  DEMO_SITE_URL: 'http://127.0.0.1:1',
  DEMO_APP_URL: 'http://127.0.0.2:2',
});

const capacity = { 'chat-load': 10, 'video-call': 2, cobrowse: 10 };
/** A time inside the accepted window (2000..2100). */
const T = Date.UTC(2030, 0, 1, 12);
const session = {
  sessionId: 's0001',
  scenario: 'chat-load',
  browser: 'shell',
  status: 'failed',
  startedAt: T,
  endedAt: T + 1,
  failedStep: 'open-widget',
  error: { code: 'E_STEP_TIMEOUT', message: 'x' },
  artifacts: ['evidence/s0001/visitor.png'],
};
const assignment: AssignmentInput = {
  runId: 'r-1',
  part: 0,
  scenario: 'chat-load',
  browser: 'shell',
  profile,
  sessions: [{ sessionId: 's0001', startOffsetMs: 0 }],
  startAt: 1_700_000_000_000,
  durationMs: null,
  options: { stepTimeoutMs: 30_000, sessionTimeoutMs: 120_000 },
};

/** Each schema: one valid payload and bad ones with the field the error must name. */
const cases: Array<{ name: string; schema: { safeParse(v: unknown): { success: boolean } }; valid: unknown; invalid: Array<[unknown, string]> }> = [
  {
    name: 'hello',
    schema: HelloSchema,
    valid: {
      protocolVersion: 1,
      token: 't',
      agentId: 'a-1',
      instanceId: '4242-ab12',
      name: 'a',
      labels: { region: 'ams3' },
      capacity,
      software: 'userprobe-agent/0.1.0',
      host: { cpus: 2, memMb: 24000, platform: 'linux' },
      runs: [{ runId: 'r-1', lastSeq: 4, running: ['s0001'], pending: 2, finished: false }],
    },
    invalid: [
      [
        {
          protocolVersion: 1,
          token: 't',
          agentId: 'a-1',
          name: 'a',
          labels: {},
          capacity,
          software: 'x',
          host: { cpus: 2, memMb: 1, platform: 'linux' },
          runs: [],
        },
        'instanceId',
      ],
      [
        {
          protocolVersion: 1,
          token: 't',
          agentId: 'a-1',
          instanceId: 'i',
          name: 'a',
          labels: {},
          capacity,
          software: 'x',
          host: { cpus: 2, memMb: 1, platform: 'linux' },
          runs: [{ runId: 'r-1', lastSeq: -1, running: [], pending: 0, finished: false }],
        },
        'runs.0.lastSeq',
      ],
      [
        { protocolVersion: 1, token: '', agentId: 'a-1', name: 'a', labels: {}, capacity, software: 'x', host: { cpus: 2, memMb: 1, platform: 'linux' } },
        'token',
      ],
      [
        { protocolVersion: 1, token: 't', agentId: 'a 1', name: 'a', labels: {}, capacity, software: 'x', host: { cpus: 2, memMb: 1, platform: 'linux' } },
        'agentId',
      ],
      [
        {
          protocolVersion: 1,
          token: 't',
          agentId: 'a',
          name: 'a',
          labels: { Region: 'x' },
          capacity,
          software: 'x',
          host: { cpus: 2, memMb: 1, platform: 'linux' },
        },
        'labels',
      ],
    ],
  },
  { name: 'auth rejection', schema: AuthRejectionSchema, valid: { code: 'E_AUTH_REJECTED', reason: 'bad token' }, invalid: [[{ code: 1 }, 'code']] },
  {
    name: 'capacity',
    schema: CapacitySchema,
    valid: capacity,
    invalid: [
      [{ ...capacity, 'video-call': -1 }, 'video-call'],
      [{ ...capacity, extra: 1 }, ''],
    ],
  },
  {
    name: 'run:assign',
    schema: CONTROLLER_TO_AGENT_SCHEMAS['run:assign'],
    valid: assignment,
    invalid: [
      [{ ...assignment, scenario: 'chat' }, 'scenario'],
      [{ ...assignment, sessions: [] }, 'sessions'],
      [{ ...assignment, options: { ...assignment.options, har: 'some' } }, 'options.har'],
      [{ ...assignment, options: { ...assignment.options, input: 'paste' } }, 'options.input'],
      [{ ...assignment, options: { ...assignment.options, thinkTime: { minMs: 5_000, maxMs: 1_000 } } }, 'options.thinkTime'],
      [{ ...assignment, options: { ...assignment.options, thinkTime: { minMs: 0, maxMs: 700_000 } } }, 'options.thinkTime.maxMs'],
      [{ ...assignment, options: { ...assignment.options, stepTimeoutMs: 600_001 } }, 'options.stepTimeoutMs'],
      [{ ...assignment, options: { ...assignment.options, messages: 101 } }, 'options.messages'],
      [{ ...assignment, durationMs: 7 * 24 * 3_600_000 + 1 }, 'durationMs'],
      [{ ...assignment, profile: { ...profile, visitor: { ...profile.visitor, url: 'not a url' } } }, 'profile.visitor.url'],
    ],
  },
  { name: 'run:abort', schema: CONTROLLER_TO_AGENT_SCHEMAS['run:abort'], valid: { runId: 'r-1', reason: 'operator' }, invalid: [[{ runId: 'r-1' }, 'reason']] },
  {
    name: 'run:resume',
    schema: CONTROLLER_TO_AGENT_SCHEMAS['run:resume'],
    valid: { runId: 'r-1', revoked: ['s0003.a2'], reason: 'reassigned' },
    invalid: [[{ runId: 'r-1', revoked: ['a b'], reason: 'x' }, 'revoked.0']],
  },
  { name: 'agent:probe', schema: CONTROLLER_TO_AGENT_SCHEMAS['agent:probe'], valid: { at: T }, invalid: [[{ at: 'now' }, 'at']] },
  {
    name: 'reply agent:probe',
    schema: REPLY_SCHEMAS['agent:probe'],
    valid: { instanceId: '4242-ab12' },
    invalid: [[{ instanceId: 'has space' }, 'instanceId']],
  },
  {
    name: 'reply run:resume',
    schema: REPLY_SCHEMAS['run:resume'],
    valid: { revoked: ['s0003'], alreadyStarted: [] },
    invalid: [[{ revoked: [] }, 'alreadyStarted']],
  },
  {
    name: 'metrics:batch',
    schema: AGENT_TO_CONTROLLER_SCHEMAS['metrics:batch'],
    valid: {
      runId: 'r-1',
      agentId: 'a-1',
      seq: 1,
      createdAt: T,
      samples: [{ sessionId: 's0001', metric: 'api_create', value: 301.2, ts: T }],
      sessions: [session],
    },
    invalid: [
      [{ runId: 'r-1', agentId: 'a-1', seq: 0, createdAt: T, samples: [], sessions: [] }, 'seq'],
      [
        { runId: 'r-1', agentId: 'a-1', seq: 1, createdAt: T, samples: [{ sessionId: 's0001', metric: 'nope', value: 1, ts: T }], sessions: [] },
        'samples.0.metric',
      ],
      [
        { runId: 'r-1', agentId: 'a-1', seq: 1, createdAt: T, samples: [{ sessionId: 's0001', metric: 'Not-A-Name', value: 1, ts: T }], sessions: [] },
        'samples.0.metric',
      ],
      [
        {
          runId: 'r-1',
          agentId: 'a-1',
          seq: 1,
          createdAt: T,
          samples: [{ sessionId: 's0001', metric: 'login_ms', value: 1, ts: T }],
          sessions: [],
          metrics: [{ name: 'login_ms', unit: 'minutes', kind: 'core', description: 'log-in' }],
        },
        'metrics.0.unit',
      ],
      [
        { runId: 'r-1', agentId: 'a-1', seq: 1, createdAt: T, samples: [{ sessionId: 's0001', metric: 'api_init', value: Number.NaN, ts: T }], sessions: [] },
        'samples.0.value',
      ],
      [{ runId: 'r-1', agentId: 'a-1', seq: 1, createdAt: T, samples: [], sessions: [{ ...session, status: 'meh' }] }, 'sessions.0.status'],
      // timestamps outside 2000..2100 (a broken clock, a corrupt value) are refused at the edge, for good
      [
        { runId: 'r-1', agentId: 'a-1', seq: 1, createdAt: T, samples: [{ sessionId: 's0001', metric: 'api_init', value: 1, ts: 1e20 }], sessions: [] },
        'samples.0.ts',
      ],
      [
        {
          runId: 'r-1',
          agentId: 'a-1',
          seq: 1,
          createdAt: T,
          samples: [{ sessionId: 's0001', metric: 'api_init', value: 1, ts: Number.POSITIVE_INFINITY }],
          sessions: [],
        },
        'samples.0.ts',
      ],
      [
        { runId: 'r-1', agentId: 'a-1', seq: 1, createdAt: T, samples: [{ sessionId: 's0001', metric: 'api_init', value: 1, ts: 5 }], sessions: [] },
        'samples.0.ts',
      ],
      [{ runId: 'r-1', agentId: 'a-1', seq: 1, createdAt: 1e20, samples: [], sessions: [] }, 'createdAt'],
      [{ runId: 'r-1', agentId: 'a-1', seq: 1, createdAt: T, samples: [], sessions: [{ ...session, endedAt: 8.64e15 }] }, 'sessions.0.endedAt'],
    ],
  },
  {
    name: 'session:progress',
    schema: AGENT_TO_CONTROLLER_SCHEMAS['session:progress'],
    valid: { runId: 'r-1', sessionId: 's0001', phase: 'started' },
    invalid: [[{ runId: 'r-1', sessionId: 's0001', phase: 'done' }, 'phase']],
  },
  {
    name: 'run:finished',
    schema: AGENT_TO_CONTROLLER_SCHEMAS['run:finished'],
    valid: { runId: 'r-1', lastSeq: 3, ok: 2, failed: 1, parts: [0, 1] },
    invalid: [
      [{ runId: 'r-1', lastSeq: -1, ok: 0, failed: 0 }, 'lastSeq'],
      [{ runId: 'r-1', lastSeq: 1, ok: 0, failed: 0, parts: [-1] }, 'parts.0'],
    ],
  },
  { name: 'clock:sync', schema: AGENT_TO_CONTROLLER_SCHEMAS['clock:sync'], valid: { t0: 12.5 }, invalid: [[{ t0: 'now' }, 't0']] },
  {
    name: 'agent:status',
    schema: AGENT_TO_CONTROLLER_SCHEMAS['agent:status'],
    valid: { cpu: 0.5, memMb: 100, activeSessions: 2, saturated: false, spooled: 0 },
    invalid: [[{ cpu: 1.5, memMb: 100, activeSessions: 2, saturated: false, spooled: 0 }, 'cpu']],
  },
  {
    name: 'evidence:upload',
    schema: AGENT_TO_CONTROLLER_SCHEMAS['evidence:upload'],
    valid: {
      runId: 'r-1',
      agentId: 'a-1',
      sessionId: 's0001',
      files: [
        { name: 'visitor.png', data: Buffer.from('png') },
        { name: 'session.har', data: new Uint8Array(3) },
      ],
    },
    invalid: [
      [{ runId: 'r-1', agentId: 'a-1', sessionId: 's0001', files: [{ name: '../x.png', data: Buffer.from('x') }] }, 'files.0.name'],
      [{ runId: 'r-1', agentId: 'a-1', sessionId: 's0001', files: [{ name: '.hidden', data: Buffer.from('x') }] }, 'files.0.name'],
      [{ runId: 'r-1', agentId: 'a-1', sessionId: 's0001', files: [{ name: 'a.png', data: 'not bytes' }] }, 'files.0.data'],
      [
        {
          runId: 'r-1',
          agentId: 'a-1',
          sessionId: 's0001',
          files: [
            { name: 'a.png', data: Buffer.alloc(0) },
            { name: 'a.png', data: Buffer.alloc(0) },
          ],
        },
        'files.1.name',
      ],
      [{ runId: 'r-1', agentId: 'a-1', sessionId: 's0001', files: [{ name: 'a.png', data: Buffer.alloc(8 * 1024 * 1024 + 1) }] }, 'files.0.data'],
    ],
  },
  {
    name: 'reply evidence:upload',
    schema: REPLY_SCHEMAS['evidence:upload'],
    valid: { ok: true, stored: ['evidence/s0001/visitor.png'], skipped: [], exhausted: false },
    invalid: [[{ ok: true, stored: [] }, 'skipped']],
  },
  {
    name: 'reply run:assign',
    schema: REPLY_SCHEMAS['run:assign'],
    valid: { accepted: false, code: 'E_X', reason: 'busy' },
    invalid: [[{ accepted: false }, 'code']],
  },
  {
    name: 'reply metrics:batch',
    schema: REPLY_SCHEMAS['metrics:batch'],
    valid: { ok: true, seq: 3, duplicate: false },
    invalid: [[{ ok: true, seq: 3 }, 'duplicate']],
  },
  { name: 'reply run:finished', schema: REPLY_SCHEMAS['run:finished'], valid: { ok: true }, invalid: [[{ ok: false }, 'ok']] },
  { name: 'reply clock:sync', schema: REPLY_SCHEMAS['clock:sync'], valid: { t0: 1, controllerNow: 2 }, invalid: [[{ t0: 1 }, 'controllerNow']] },
];

describe('message schemas', () => {
  it('covers every event of both directions and every reply', () => {
    const covered = new Set(cases.map((c) => c.name));
    for (const ev of [...Object.keys(CONTROLLER_TO_AGENT_SCHEMAS), ...Object.keys(AGENT_TO_CONTROLLER_SCHEMAS)]) expect(covered).toContain(ev);
    for (const ev of Object.keys(REPLY_SCHEMAS)) expect(covered).toContain(`reply ${ev}`);
  });

  for (const c of cases) {
    it(`${c.name}: accepts a valid payload`, () => {
      expect(c.schema.safeParse(c.valid).success).toBe(true);
    });
    for (const [bad, path] of c.invalid) {
      it(`${c.name}: rejects a bad ${path || 'shape'} and names it`, () => {
        expect(c.schema.safeParse(bad).success).toBe(false);
        if (c.schema === CONTROLLER_TO_AGENT_SCHEMAS['run:assign'] || c.name in AGENT_TO_CONTROLLER_SCHEMAS) {
          try {
            parseMessage(c.name, c.schema as never, bad);
            expect.unreachable();
          } catch (e) {
            expect(e).toBeInstanceOf(MessageError);
            expect((e as MessageError).code).toBe(ERROR_CODES.MESSAGE_INVALID);
            expect((e as Error).message).toContain(`"${c.name}"`);
            if (path) expect((e as Error).message).toContain(path);
          }
        }
      });
    }
  }

  it('the timestamp window is 2000-01-01..2100-01-01 UTC, both ends accepted', () => {
    expect([MIN_EPOCH_MS, MAX_EPOCH_MS]).toEqual([Date.UTC(2000, 0, 1), Date.UTC(2100, 0, 1)]);
    const at = (ts: number) =>
      AGENT_TO_CONTROLLER_SCHEMAS['metrics:batch'].safeParse({
        runId: 'r-1',
        agentId: 'a-1',
        seq: 1,
        createdAt: T,
        samples: [{ sessionId: 's0001', metric: 'api_init', value: 1, ts }],
        sessions: [],
      }).success;
    expect([at(MIN_EPOCH_MS - 1), at(MIN_EPOCH_MS), at(MAX_EPOCH_MS), at(MAX_EPOCH_MS + 1)]).toEqual([false, true, true, false]);
  });

  it('a sample of a custom metric is accepted only when its batch declares it', () => {
    const batch = (metrics?: unknown) =>
      AGENT_TO_CONTROLLER_SCHEMAS['metrics:batch'].safeParse({
        runId: 'r-1',
        agentId: 'a-1',
        seq: 1,
        createdAt: T,
        samples: [
          { sessionId: 's0001', metric: 'login_ms', value: 12, ts: T },
          { sessionId: 's0001', metric: 'page_load', value: 90, ts: T },
        ],
        sessions: [],
        ...(metrics === undefined ? {} : { metrics }),
      }).success;
    const login = { name: 'login_ms', unit: 'ms', kind: 'core', description: 'Console log-in: submit → inbox shown' };
    expect([batch(), batch([login]), batch([{ ...login, name: 'other_ms' }]), batch([{ ...login, name: 'page_load' }])]).toEqual([false, true, false, false]);
  });

  it('rejects unknown keys (strict objects)', () => {
    expect(AGENT_TO_CONTROLLER_SCHEMAS['clock:sync'].safeParse({ t0: 1, extra: true }).success).toBe(false);
  });

  it('fills assignment option defaults', () => {
    const a = CONTROLLER_TO_AGENT_SCHEMAS['run:assign'].parse(assignment);
    expect(a.options).toMatchObject({ messages: 1, har: 'failures', adaptiveStart: true, mirrorSamples: 3, thinkTime: { minMs: 0, maxMs: 0 }, input: 'type' });
  });
});

describe('hello labels are bounded (count, key and value size)', () => {
  const labels = (n: number, value = 'v'): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value]));
  it.each([
    ['the most labels accepted', labels(HELLO_MAX_LABELS), null],
    ['one label too many', labels(HELLO_MAX_LABELS + 1), `(root): at most ${HELLO_MAX_LABELS} labels, got ${HELLO_MAX_LABELS + 1}`],
    ['10,000 labels', labels(10_000), `(root): at most ${HELLO_MAX_LABELS} labels, got 10000`],
    ['the longest key', { [`k${'x'.repeat(LABEL_KEY_MAX_CHARS - 1)}`]: 'v' }, null],
    ['a key one character too long', { [`k${'x'.repeat(LABEL_KEY_MAX_CHARS)}`]: 'v' }, 'not a label key: a lower-case letter then up to'],
    ['a key of 100,000 characters', { [`k${'x'.repeat(100_000)}`]: 'v' }, 'not a label key'],
    ['the longest value', { region: 'v'.repeat(LABEL_VALUE_MAX_CHARS) }, null],
    ['a value one character too long', { region: 'v'.repeat(LABEL_VALUE_MAX_CHARS + 1) }, `at most ${LABEL_VALUE_MAX_CHARS}`],
  ])('%s', (_n, value, problem) => {
    const r = LabelsSchema.safeParse(value);
    expect(r.success).toBe(problem === null);
    if (!r.success) {
      const text = formatIssues(r.error);
      expect(text).toContain(problem);
      expect(text.length).toBeLessThan(400); // a clear, short reason, never the labels themselves
    }
  });
});
