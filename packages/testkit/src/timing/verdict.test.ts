import { describe, expect, it } from 'vitest';
import { judgeAgreement, judgeDelay, judgeOffset, type DelayCheck } from './verdict.js';

const check = (measured: number[], reference: number[], extra: Partial<DelayCheck> = {}): DelayCheck => ({
  metric: 'api_create',
  injectedMs: 300,
  measured,
  reference,
  referenceIs: 'independent client',
  ...extra,
});

describe('judgeDelay', () => {
  // stated bar for 300 ms: 5 + 6 = 11 ms
  it.each([
    ['exact, quiet', [301, 301, 301], [1, 1, 1], true, 0],
    ['a few ms over, quiet', [303.5, 303.9, 304.2, 303.7, 304.0], [1.0, 1.2, 0.9, 1.1, 1.0], true, 2.9],
    // the deliberate error: +15 ms in the collector on a quiet machine must fail
    ['+15 ms collector error, quiet', [318.5, 318.9, 319.2, 318.7, 319.0], [1.0, 1.2, 0.9, 1.1, 1.0], false, 17.9],
    ['a real 10 ms error hides behind no fixed allowance', [312, 312.2, 311.8, 312.1, 311.9], [1, 1, 1, 1, 1], true, 11],
    ['−12 ms: measured less than injected', [289, 289.1, 288.9], [1, 1, 1], false, -12],
    // a noisy machine: the same +15 error is inside a bar widened by the measured spread
    ['+15 ms on a machine with σ ≈ 15 ms', [318, 300, 335, 320, 310], [1, 20, 0, 5, 30], true, 13],
    ['one outlier per arm does not move medians', [301, 301.5, 390, 301.2, 300.8], [1, 1.1, 0.9, 60, 1], true, 0.2],
  ])('%s', (_name, measured, reference, ok, error) => {
    const v = judgeDelay(check(measured, reference));
    expect(v.ok, v.text).toBe(ok);
    expect(v.errorMs).toBeCloseTo(error, 6);
    expect(v.toleranceMs).toBe(11);
  });

  it('the bar is the stated accuracy plus 3 standard errors of the difference of medians, each arm with its own spread', () => {
    const v = judgeDelay(check([300, 302, 304], [0, 2, 4]));
    // each arm: deviations 2,0,2 → median 2 → σ 2.965; SE of each median √(π/2)·σ/√3; bar noise = 3·√2·SE
    const sigma = 1.4826 * 2;
    expect(v.sigmaMs).toBeCloseTo(sigma, 6);
    expect(v.noiseMs).toBeCloseTo((3 * Math.SQRT2 * Math.sqrt(Math.PI / 2) * sigma) / Math.sqrt(3), 6);
    expect(v.barMs).toBeCloseTo(11 + v.noiseMs, 9);
    // a quiet measured arm does not hide a noisy reference: its spread alone sets that arm's error
    const lopsided = judgeDelay(check([301, 301, 301, 301, 301], [1, 5, 9, 13, 17]));
    const sigmaRef = 1.4826 * 4;
    expect(lopsided.noiseMs).toBeCloseTo((3 * Math.sqrt(Math.PI / 2) * sigmaRef) / Math.sqrt(5), 6);
  });

  it('a hard floor fails a value below it whatever the medians say', () => {
    const v = judgeDelay(check([301, 298.9, 302], [1, 1, 1], { floorMs: 300 }));
    expect(v.ok).toBe(false);
    expect(v.belowFloor).toEqual([298.9]);
    expect(v.text).toContain('below the floor 300.0 ms: 298.9');
  });

  it('says what was measured, the reference, the spread and the bar', () => {
    const v = judgeDelay(check([318.5, 319], [1, 1.2], { metric: 'api_create' }));
    expect(v.text).toMatch(
      /^FAIL api_create: injected 300\.0 ms; measured 318\.8 \[318\.5…319\.0, n=2\] − reference 1\.1 \[1\.0…1\.2, n=2\] \(independent client\) = 317\.6 ms; error \+17\.6 ms OUTSIDE ±\d+\.\d ms \(stated 11\.0 \+ noise/,
    );
  });

  it('no values is a failure that says so, never a pass', () => {
    expect(judgeDelay(check([], [1])).ok).toBe(false);
    expect(judgeDelay(check([1], [])).text).toContain('no reference values');
  });
});

describe('judgeAgreement', () => {
  it.each([
    ['inside the band', [1, 2, 1.5], -1, 5, true],
    ['above the band, quiet', [12, 12.5, 12.2], -1, 5, false],
    ['below the band', [-4, -4.2, -3.9], -1, 5, false],
    ['noisy differences widen the band', [1, 20, 3, 9, 15], -1, 5, true],
    ['no values', [], -1, 5, false],
  ])('%s', (_name, differences, lowMs, highMs, ok) => {
    expect(judgeAgreement({ what: 'mark − request', differences, lowMs, highMs }).ok).toBe(ok);
  });
});

describe('judgeOffset', () => {
  // 200 ms more injected: stated 5 + 4 = 9 ms on the drift.
  it.each([
    ['a steady offset of any size passes', [12, 12.5, 11.8, 12.2], [12.4, 11.9, 12.6, 12.1], true],
    ['an offset that grows with the delay fails (the instrument misses part of it)', [12, 12.5, 11.8, 12.2], [27, 27.4, 26.8, 27.2], false],
    ['an offset that shrinks with the delay fails', [30, 30.5, 29.8, 30.2], [12.4, 11.9, 12.6, 12.1], false],
    ['below the stated lowest offset fails', [-6, -6.2, -5.9], [-6.1, -5.8, -6], false],
    ['noisy arms widen the drift bar', [10, 25, 12, 30, 14], [22, 9, 35, 15, 28], true],
    ['no values at one dose', [], [12, 12], false],
  ])('%s', (_name, low, high, ok) => {
    const v = judgeOffset({ what: 'page − CDP', low, high, injectedMs: 200, lowMs: -1 });
    expect(v.ok, v.text).toBe(ok);
  });

  it('says the offset, how it moved with the dose, and the bar', () => {
    const v = judgeOffset({ what: 'page − CDP', low: [12, 12.5, 11.8], high: [12.4, 11.9, 12.6], injectedMs: 200, lowMs: -1 });
    expect(v.text).toMatch(
      /^ok {3}page − CDP: offset 12\.\d ms \[11\.8…12\.6, n=6\] ≥ -?\d+\.\d ms; with 200\.0 ms more injected it moved \+0\.\d ms \(low 12\.0, high 12\.4\) within ±\d+\.\d ms/,
    );
  });
});
