import type { Logger } from 'pino';
import { ConfigError, resolveProfile } from '@userprobe/shared';
import type { ResolvedTarget } from './target.js';

/*
 * `--target demo`: the one place the controller meets the bundled demo target,
 * which stands in for a product we do not control. It starts the demo in this
 * process, hands it the operator's `--demo-latency` / `--demo-error` values
 * untouched (the demo parses and checks them; the controller knows no knob),
 * and fills the bundled `demo` profile (profiles/demo.yaml, read by shared's
 * resolveProfile) with the two origins the demo reports. Nothing else in the
 * controller imports the demo.
 */

/** The operator's demo knob flags, as given (each `--demo-latency` / `--demo-error` value). */
export interface DemoKnobFlags {
  readonly latency: readonly string[];
  readonly error: readonly string[];
}

/** Starts the demo on loopback (free ports), or throws ConfigError with the demo's own message. */
export async function launchDemo(flags: DemoKnobFlags, log: Logger, profileName = 'demo'): Promise<ResolvedTarget> {
  // Loaded on demand: a controller measuring a real target never loads the demo.
  const demo = await import('@userprobe/demo-target');
  let target: Awaited<ReturnType<typeof demo.startDemoTarget>>;
  try {
    // '--demo-': the demo names the flags in its errors as the operator typed them here.
    const knobs = demo.knobsFromFlags(flags.latency, flags.error, '--demo-');
    target = await demo.startDemoTarget({ knobs, logger: log.child({ component: 'demo-target' }) });
  } catch (e) {
    // The demo's bad-input error is the operator's ConfigError (exit 2, message, no stack).
    if (e instanceof demo.DemoConfigError) throw new ConfigError(e.message, { cause: e });
    throw e;
  }
  try {
    const { profile } = await resolveProfile(profileName, target.vars);
    const injected = [...flags.latency.map((v) => `--demo-latency ${v}`), ...flags.error.map((v) => `--demo-error ${v}`)];
    return {
      name: profile.name,
      profile,
      description: `bundled demo target${profileName === 'demo' ? '' : ` as ${profileName}`}: site ${target.siteUrl}, app ${target.appUrl}${injected.length ? `; injected: ${injected.join(', ')}` : ''}`,
      close: () => target.close(),
    };
  } catch (e) {
    await target.close();
    throw e;
  }
}
