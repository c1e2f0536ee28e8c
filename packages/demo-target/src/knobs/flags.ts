import { DemoConfigError } from '../errors.js';
import { ERROR_KNOBS, LATENCY_KNOBS, parseKnobsPatch, type KnobsPatch } from './schema.js';

/**
 * CLI knob flags: `--latency create=300` and `--error init=500` or
 * `--error init=503@0.25` (status at a rate). Pure; throws DemoConfigError
 * naming the flag that is wrong and what it accepts.
 * `flagPrefix` names the flags in errors: `--` for the demo's own CLI; a host
 * that passes its own flags through (the controller's `--demo-latency`) gives
 * `--demo-`.
 */
export function knobsFromFlags(latency: readonly string[], errors: readonly string[], flagPrefix = '--'): KnobsPatch {
  const lat: Record<string, number> = {};
  for (const flag of latency) {
    const m = /^([A-Za-z]+)=(\d+)$/.exec(flag.trim());
    if (!m) {
      throw new DemoConfigError(`${flagPrefix}latency ${flag}: expected NAME=MS such as create=300; names: ${LATENCY_KNOBS.join(', ')}`);
    }
    const r = parseKnobsPatch({ latency: { [m[1]!]: Number(m[2]) } });
    if (!r.ok) throw new DemoConfigError(`${flagPrefix}latency ${flag}: ${r.problems}; names: ${LATENCY_KNOBS.join(', ')}`);
    lat[m[1]!] = Number(m[2]);
  }
  const errs: Record<string, { status: number; rate?: number }> = {};
  for (const flag of errors) {
    const m = /^([A-Za-z]+)=(\d+)(?:@([0-9.]+))?$/.exec(flag.trim());
    if (!m) {
      throw new DemoConfigError(
        `${flagPrefix}error ${flag}: expected ENDPOINT=STATUS or ENDPOINT=STATUS@RATE such as init=500 or create=503@0.25; endpoints: ${ERROR_KNOBS.join(', ')}`,
      );
    }
    const injected = m[3] === undefined ? { status: Number(m[2]) } : { status: Number(m[2]), rate: Number(m[3]) };
    const r = parseKnobsPatch({ errors: { [m[1]!]: injected } });
    if (!r.ok) throw new DemoConfigError(`${flagPrefix}error ${flag}: ${r.problems}; endpoints: ${ERROR_KNOBS.join(', ')}`);
    errs[m[1]!] = injected;
  }
  return { latency: lat, errors: errs };
}
