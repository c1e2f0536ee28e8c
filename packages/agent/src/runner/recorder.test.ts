import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { Sample } from '@userprobe/shared';
import { SessionRecorder } from './recorder.js';

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
