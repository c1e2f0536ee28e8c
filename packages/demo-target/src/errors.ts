/**
 * The demo's own error for bad input (a flag, a knob patch, a port in use).
 *
 * The demo target stands in for a third-party product, so it does not use the
 * probe's error taxonomy (@userprobe/shared's ProbeError): this one small class
 * duplicates the idea on purpose. Whoever starts the demo (its CLI, the
 * controller's demo launcher) branches on the class or on `code`, never on
 * the message, which says what was wrong and what is accepted.
 */
export class DemoConfigError extends Error {
  /** Stable code, like the probe's CONFIG_INVALID. */
  readonly code = 'DEMO_CONFIG_INVALID';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DemoConfigError';
  }
}
