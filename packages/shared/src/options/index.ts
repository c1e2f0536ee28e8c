export * from './duration.js';
export * from './ranges.js';
export * from './think-time.js';
export * from './option-spec.js';
export * from './scenario-options.js';
export * from './scenario-option-bag.js';
export * from './shared-console.js';
