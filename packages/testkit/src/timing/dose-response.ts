import { runExperiment, type Experiment } from './experiment.js';
import { judgeDelay, type Accuracy, type Verdict } from './verdict.js';

export interface DoseResponse {
  /** What is timed, for the report. */
  readonly metric: string;
  /** The delay added over `lowMs`. */
  readonly injectedMs: number;
  /** The reference dose (default DOSE_RESPONSE_LOW_MS; 0: the same operation undelayed, where an arm without a sleep is the point). */
  readonly lowMs?: number;
  /** Times the operation once with `delayMs` injected; returns ms. */
  readonly measure: (delayMs: number) => Promise<number>;
  readonly rounds?: number;
  readonly accuracy?: Accuracy;
}

/** Rounds of a dose-response experiment when the caller does not say. */
export const DOSE_RESPONSE_ROUNDS = 5;

/**
 * The reference dose when the caller does not say: both arms sleep, so the
 * wake-up after a sleep falls on both. Against an undelayed reference it fell
 * on one: a fresh-clone run on a quiet EPYC read the demo's 150 ms signaling
 * knob as 162-166 ms in all three delayed rounds (the undelayed ones 0.3-1.1,
 * the same knob on `call:invite` a second earlier 150.8-152.2), a process woken
 * ~15 ms late from its timer, which the knob's own precision does not cover.
 */
export const DOSE_RESPONSE_LOW_MS = 50;

/**
 * The common experiment: one operation timed at `lowMs` and at `lowMs +
 * injectedMs`, interleaved, judged as a difference of medians (judgeDelay)
 * with the floor that every delayed value contains the whole delay.
 */
export async function doseResponse(o: DoseResponse): Promise<{ experiment: Experiment<number>; verdict: Verdict }> {
  const low = o.lowMs ?? DOSE_RESPONSE_LOW_MS;
  const experiment = await runExperiment<number>(
    [
      { name: 'low', run: () => o.measure(low) },
      { name: 'high', run: () => o.measure(low + o.injectedMs) },
    ],
    { rounds: o.rounds ?? DOSE_RESPONSE_ROUNDS },
  );
  const verdict = judgeDelay({
    metric: o.metric,
    injectedMs: o.injectedMs,
    floorMs: low + o.injectedMs,
    accuracy: o.accuracy,
    measured: experiment.values('high', (v) => v),
    reference: experiment.values('low', (v) => v),
    referenceIs: low === 0 ? 'same operation undelayed' : `same operation with ${low} ms injected`,
  });
  return { experiment, verdict };
}
