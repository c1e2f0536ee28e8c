import { z } from 'zod';

/*
 * The knobs: ground truth the tests inject. Latencies are exact server-side
 * delays (setTimeout before the response is written); errors replace an API
 * endpoint's response with a status code, at a rate.
 */

/** Largest latency a knob accepts, in milliseconds. */
export const MAX_LATENCY_MS = 600_000;

/** Every latency knob, in ms. `signaling`, `cobrowseScript`, `cobrowseEvents` are reserved for the video and cobrowse features. */
export const LATENCY_KNOBS = [
  'page',
  'widgetScript',
  'init',
  'create',
  'addMessage',
  'login',
  'crmConnect',
  'realtime',
  'signaling',
  'cobrowseScript',
  'cobrowseEvents',
] as const;
export type LatencyKnob = (typeof LATENCY_KNOBS)[number];

/**
 * What the video signaling server does with the ICE candidates it relays (in
 * `candidate` messages and inside SDP): `all` (default) passes them; `drop`
 * passes none, so ICE cannot complete (for call-failure tests).
 */
export const ICE_MODES = ['all', 'drop'] as const;
export type IceMode = (typeof ICE_MODES)[number];
export const DEFAULT_ICE_MODE: IceMode = 'all';
const IceModeSchema = z.enum(ICE_MODES, { error: `ice is one of ${ICE_MODES.join(', ')}` });

/** API endpoints whose response can be replaced by an injected error. */
export const ERROR_KNOBS = ['init', 'create', 'addMessage', 'login'] as const;
export type ErrorKnob = (typeof ERROR_KNOBS)[number];

const LatencyMs = z
  .number({ error: `a latency is a whole number of milliseconds, 0..${MAX_LATENCY_MS}` })
  .int(`a latency is a whole number of milliseconds, 0..${MAX_LATENCY_MS}`)
  .min(0, `a latency is a whole number of milliseconds, 0..${MAX_LATENCY_MS}`)
  .max(MAX_LATENCY_MS, `a latency is a whole number of milliseconds, 0..${MAX_LATENCY_MS}`);

export const InjectedErrorSchema = z.strictObject({
  /** HTTP status the endpoint answers with instead of its real response. */
  status: z.number().int().min(400, 'an injected status is 400..599').max(599, 'an injected status is 400..599'),
  /** Fraction of requests that get the error, 0..1 (default 1: every request). */
  rate: z.number().min(0, 'a rate is a number 0..1').max(1, 'a rate is a number 0..1').default(1),
});
export type InjectedError = z.infer<typeof InjectedErrorSchema>;

const latencyShape = Object.fromEntries(LATENCY_KNOBS.map((k) => [k, LatencyMs])) as Record<LatencyKnob, typeof LatencyMs>;
const errorShape = Object.fromEntries(ERROR_KNOBS.map((k) => [k, InjectedErrorSchema.optional()])) as Record<
  ErrorKnob,
  z.ZodOptional<typeof InjectedErrorSchema>
>;
const errorPatchShape = Object.fromEntries(ERROR_KNOBS.map((k) => [k, InjectedErrorSchema.nullable().optional()])) as Record<
  ErrorKnob,
  z.ZodOptional<z.ZodNullable<typeof InjectedErrorSchema>>
>;

export const KnobsSchema = z.strictObject({
  latency: z.strictObject(latencyShape),
  errors: z.strictObject(errorShape),
  /** Absent means DEFAULT_ICE_MODE. */
  ice: IceModeSchema.optional(),
});
export type Knobs = z.infer<typeof KnobsSchema>;

/**
 * A change to the knobs: every field optional; `errors.<endpoint>: null` clears
 * that endpoint's injected error. Any `Partial<Knobs>` is a valid patch.
 */
export const KnobsPatchSchema = z.strictObject({
  latency: z.strictObject(latencyShape).partial().optional(),
  errors: z.strictObject(errorPatchShape).optional(),
  ice: IceModeSchema.optional(),
});
export type KnobsPatch = z.input<typeof KnobsPatchSchema>;
type ParsedPatch = z.output<typeof KnobsPatchSchema>;

/** What a valid knobs document looks like, for error messages. */
export const KNOBS_ACCEPTED =
  `a JSON object {"latency"?: {<knob>: ms}, "errors"?: {<endpoint>: {"status": 400..599, "rate"?: 0..1} | null}}; ` +
  `latency knobs: ${LATENCY_KNOBS.join(', ')}; error endpoints: ${ERROR_KNOBS.join(', ')}; "ice"?: ${ICE_MODES.join(' | ')}`;

export function defaultKnobs(): Knobs {
  return {
    latency: Object.fromEntries(LATENCY_KNOBS.map((k) => [k, 0])) as Record<LatencyKnob, number>,
    errors: {},
  };
}

/** Validate a patch; the message of the result says what was wrong and what is accepted. */
export function parseKnobsPatch(input: unknown): { ok: true; patch: ParsedPatch } | { ok: false; message: string; problems: string } {
  const r = KnobsPatchSchema.safeParse(input);
  if (r.success) return { ok: true, patch: r.data };
  const problems = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
  return { ok: false, message: `invalid knobs: ${problems}. Accepted: ${KNOBS_ACCEPTED}`, problems };
}

/** Apply a validated patch to knobs, returning new knobs (pure). */
export function applyKnobsPatch(knobs: Knobs, patch: ParsedPatch): Knobs {
  const latency = { ...knobs.latency };
  for (const [k, v] of Object.entries(patch.latency ?? {})) {
    if (v !== undefined) latency[k as LatencyKnob] = v;
  }
  const errors: Knobs['errors'] = { ...knobs.errors };
  for (const [k, v] of Object.entries(patch.errors ?? {})) {
    if (v === null) delete errors[k as ErrorKnob];
    else if (v !== undefined) errors[k as ErrorKnob] = v;
  }
  const ice = patch.ice ?? knobs.ice;
  return ice === undefined ? { latency, errors } : { latency, errors, ice };
}
