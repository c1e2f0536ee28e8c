export { startDemoTarget, DEFAULT_SITE_HOST, DEFAULT_APP_HOST, type DemoTarget, type DemoTargetOptions, type DemoVars } from './server.js';
export { DemoConfigError } from './errors.js';
export {
  KnobsSchema,
  KnobsPatchSchema,
  InjectedErrorSchema,
  LATENCY_KNOBS,
  ERROR_KNOBS,
  MAX_LATENCY_MS,
  defaultKnobs,
  type Knobs,
  type KnobsPatch,
  type LatencyKnob,
  type ErrorKnob,
  type InjectedError,
} from './knobs/schema.js';
export { knobsFromFlags } from './knobs/flags.js';
export { FEATURES } from './features.js';
export type { Feature, FeatureContext } from './feature.js';
export { CRM_SOCKET_PATH } from './chat/realtime.js';
export { DEFAULT_CREDENTIALS, type Credentials } from './console/sessions.js';
export { Delays } from './http/delays.js';
