import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { SESSION_MAX_NOTES, SESSION_NOTE_MAX_KEYS, SessionRecordSchema, StepError, type Sample } from '@userprobe/shared';
import { SessionRecorder, toSessionNote } from './recorder.js';

function recorder(saturated: (from: number, to: number) => boolean): { r: SessionRecorder; out: Sample[]; asked: Array<[number, number]> } {
  const out: Sample[] = [];
  const asked: Array<[number, number]> = [];
  const r = new SessionRecorder({
    session: { runId: 'r', sessionId: 's1', scenario: 'chat-load' },
    browser: 'shell',
    stepTimeoutMs: 1_000,
    signal: new AbortController().signal,
    emit: (s) => out.push(s),
    log: pino({ level: 'silent' }),
    saturated: (from, to) => {
      asked.push([from, to]);
      return saturated(from, to);
    },
  });
  return { r, out, asked };
}

describe('SessionRecorder: saturation flag', () => {
  it('asks about the measured interval [end − value, end] of a timing, the instant of a count', () => {
    const { r, out, asked } = recorder((from) => from < 10_000);
    r.value('api_create', 150, { ts: 20_000 });
    r.value('crm_ws_reconnects', 2, { ts: 20_000 });
    r.value('page_load', 12_000, { ts: 20_000 });
    expect(asked).toEqual([
      [19_850, 20_000],
      [20_000, 20_000],
      [8_000, 20_000],
    ]);
    expect(out.map((s) => [s.metric, s.saturated])).toEqual([
      ['api_create', undefined],
      ['crm_ws_reconnects', undefined],
      ['page_load', true],
    ]);
  });

  it('finish() lists the evidence paths it is given', () => {
    const { r } = recorder(() => false);
    expect(r.finish(['evidence/s1/visitor.png']).artifacts).toEqual(['evidence/s1/visitor.png']);
  });
});

describe('SessionRecorder: what a failed step was doing', () => {
  const never = (): Promise<never> => new Promise<never>(() => undefined);
  const messageOf = async (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => 'resolved',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );

  it('a step timeout names the sub-action said last, with its field and selector', async () => {
    const { r } = recorder(() => false);
    const msg = await messageOf(
      r.measure(
        'agent_console',
        async () => {
          r.doing("fill agent.login.usernameInput '#user'");
          r.doing("click agent.login.submit '#login'");
          await never();
        },
        { timeoutMs: 30 },
      ),
    );
    expect(msg).toBe(
      `step "agent_console" did not finish within 30 ms while it was at: click agent.login.submit '#login' (step timeout; raise timeouts.step in the target profile or the run's stepTimeoutMs)`,
    );
    expect(r.finish([])).toMatchObject({ status: 'failed', failedStep: 'agent_console', error: { code: 'E_STEP_TIMEOUT', message: msg } });
  });

  it('a step that throws says where it was; a later step starts with nothing said', async () => {
    const { r } = recorder(() => false);
    expect(
      await messageOf(
        r.measure('open_chat', () => {
          r.doing("click visitor.widget.open '#launcher'");
          throw new Error('Node is detached from document');
        }),
      ),
    ).toBe(`step "open_chat" failed: Node is detached from document (at: click visitor.widget.open '#launcher')`);
    expect(await messageOf(r.measure('later', never, { timeoutMs: 30 }))).toMatch(/^step "later" did not finish within 30 ms \(step timeout;/);
  });

  it('concurrent steps each name their own action; a helper StepError of the step gets where it was', async () => {
    const { r } = recorder(() => false);
    const a = messageOf(
      r.measure(
        'a',
        async () => {
          r.doing('waiting in a');
          await never();
        },
        { timeoutMs: 60 },
      ),
    );
    const b = messageOf(
      r.measure('b', async () => {
        r.doing('clicking in b');
        await new Promise((res) => setTimeout(res, 10));
        throw new StepError('b', "nothing to click: '#x' is not in the page");
      }),
    );
    expect(await b).toBe(`nothing to click: '#x' is not in the page (at: clicking in b)`);
    expect(await a).toMatch(/^step "a" did not finish within 60 ms while it was at: waiting in a \(/);
  });

  it('outside a step, doing() is ignored', async () => {
    const { r } = recorder(() => false);
    r.doing('nothing runs');
    expect(await messageOf(r.measure('s', never, { timeoutMs: 30 }))).not.toContain('nothing runs');
  });
});

describe('SessionRecorder: the work a lost race leaves running', () => {
  const until = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));
  const never = (): Promise<never> => new Promise<never>(() => undefined);
  it('settled() waits for a timed-out step that still runs, and no longer than its bound', async () => {
    const { r } = recorder(() => false);
    await r.settled(10_000); // none: at once
    // The step's work ends when the test says so, not on a timer of its own: a work timer of 80 ms against the
    // step's 20 ms failed a busy run, whose process stalled between creating the two timers, so the work won.
    let typed = false;
    let release = (): void => undefined;
    const released = new Promise<void>((res) => (release = res));
    const step = r.measure(
      'agent_reply',
      async () => {
        await released;
        typed = true; // what a timed-out enterText would still do
      },
      { timeoutMs: 20 },
    );
    await expect(step).rejects.toMatchObject({ code: 'E_STEP_TIMEOUT' });
    expect(typed).toBe(false);
    let settled = false;
    const settling = r.settled(600_000).then(() => (settled = true));
    await until(30);
    expect(settled).toBe(false); // still waiting for the work
    release();
    await settling;
    expect(typed).toBe(true);
    // A step whose work never ends: settled() gives up at its bound.
    await expect(r.measure('stuck', never, { timeoutMs: 10 })).rejects.toMatchObject({ code: 'E_STEP_TIMEOUT' });
    const t0 = performance.now();
    await r.settled(40);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(35);
  });

  it('work that finished, failed on its own or ran after the call is not waited for', async () => {
    const { r } = recorder(() => false);
    await r.measure('ok', async () => 1);
    await expect(r.measure('threw', () => Promise.reject(new Error('detached')))).rejects.toThrow('detached');
    let waited = false;
    const waiting = r.settled(60_000).then(() => (waited = true));
    await until(0);
    expect(waited).toBe(true);
    // Called before a later step times out: that step's work is not in it.
    const later = r.measure('later', never, { timeoutMs: 10 });
    await expect(later).rejects.toMatchObject({ code: 'E_STEP_TIMEOUT' });
    await waiting;
  });
});

describe('SessionRecorder: notes in the session record', () => {
  const redact = (s: string): string => s.replaceAll('hunter2', '[redacted]');
  const table: Array<[string, Record<string, unknown> | undefined, unknown]> = [
    ['no data', undefined, { at: 5, message: 'm' }],
    ['flat values kept', { n: 3, ok: true, none: null, s: 'x' }, { at: 5, message: 'm', data: { n: 3, ok: true, none: null, s: 'x' } }],
    ['a nested value as its JSON', { attempts: [1, 2], by: { a: 1 } }, { at: 5, message: 'm', data: { attempts: '[1,2]', by: '{"a":1}' } }],
    ['a non-finite number as text', { ms: Number.NaN }, { at: 5, message: 'm', data: { ms: 'NaN' } }],
    ['a value with no JSON as its kind', { f: () => 1, big: 1n }, { at: 5, message: 'm', data: { f: 'function', big: 'bigint' } }],
    ['a secret the agent knows, redacted in any value', { seen: 'pw hunter2' }, { at: 5, message: 'm', data: { seen: 'pw [redacted]' } }],
    [
      'a value under a secret-like name, whatever it is',
      { token: 'abc', apiKey: 42, sessionId: { a: 1 } },
      { at: 5, message: 'm', data: { token: '[redacted]', apiKey: '[redacted]', sessionId: '[redacted]' } },
    ],
    ['a long value cut', { s: 'x'.repeat(600) }, { at: 5, message: 'm', data: { s: 'x'.repeat(500) } }],
  ];
  it.for(table)('%s', ([, data, want]) => {
    expect(toSessionNote(5, 'm', data, redact)).toEqual(want);
  });

  it("keeps the first SESSION_NOTE_MAX_KEYS keys of a note's data", () => {
    const data = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(toSessionNote(1, 'm', data, (s) => s).data!)).toHaveLength(SESSION_NOTE_MAX_KEYS);
  });

  it('the record carries the notes in order, valid by the contract; past the limit the last says how many more', () => {
    const { r } = recorder(() => false);
    expect(r.finish([]).notes).toBeUndefined();
    r.note('crm socket connect', { attempts: 2, connectVia: 'polling' });
    r.note('second');
    const rec = r.finish([]);
    expect(rec.notes?.map((n) => [n.message, n.data])).toEqual([
      ['crm socket connect', { attempts: 2, connectVia: 'polling' }],
      ['second', undefined],
    ]);
    expect(SessionRecordSchema.safeParse(rec).success).toBe(true);
    for (let i = 0; i < SESSION_MAX_NOTES + 8; i++) r.note(`n${i}`);
    const full = r.finish([]);
    expect(full.notes).toHaveLength(SESSION_MAX_NOTES);
    expect(full.notes!.at(-1)!.message).toBe(
      `${SESSION_MAX_NOTES + 10 - (SESSION_MAX_NOTES - 1)} more note(s) left out of this record (the agent's log has them)`,
    );
    expect(SessionRecordSchema.safeParse(full).success).toBe(true);
  });
});
