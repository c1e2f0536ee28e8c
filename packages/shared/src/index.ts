export * from './errors.js';
export * from './limits.js';
export * from './scenarios.js';
export * from './metrics.js';
export * from './messages.js';
export * from './protocol.js';
export * from './profile.js';
export * from './percentiles.js';
