import type { Logger } from 'pino';
import { resolveProfile, type TargetProfile } from '@userprobe/shared';

/**
 * `--target`: `demo` starts the bundled demo target in this process (with the
 * `--demo-latency` / `--demo-error` knobs) and uses its profile; anything else
 * is a YAML profile path (shared `resolveProfile`), validated with errors that
 * name the field.
 */
export interface ResolvedTarget {
  readonly name: string;
  readonly profile: TargetProfile;
  /** One line for the operator: what is being measured. */
  readonly description: string;
  close(): Promise<void>;
}

export interface TargetOptions {
  readonly target: string;
  readonly demoLatency: readonly string[];
  readonly demoError: readonly string[];
  /** Values for `${NAME}` placeholders in a profile file (`--profile-var NAME=VALUE`). */
  readonly profileVars?: Readonly<Record<string, string>>;
  /** The demo binds here; agents must reach it (loopback for local agents). */
  readonly log: Logger;
}

export async function resolveTarget(opts: TargetOptions): Promise<ResolvedTarget> {
  if (opts.target !== 'demo') {
    const { profile } = await resolveProfile(opts.target, opts.profileVars ?? {});
    return { name: profile.name, profile, description: `target profile ${opts.target} (${profile.name}): ${profile.visitor.url}`, close: async () => {} };
  }
  // Loaded on demand: a controller measuring a real target never loads the demo.
  const demo = await import('@userprobe/demo-target');
  const knobs = demo.knobsFromFlags(opts.demoLatency, opts.demoError);
  const t = await demo.startDemoTarget({ knobs, logger: opts.log.child({ component: 'demo-target' }) });
  const injected = [...opts.demoLatency.map((l) => `latency ${l}ms`), ...opts.demoError.map((e) => `error ${e}`)];
  return {
    name: t.profile.name,
    profile: t.profile,
    description: `bundled demo target: site ${t.siteUrl}, app ${t.appUrl}${injected.length ? `; injected: ${injected.join(', ')}` : ''}`,
    close: () => t.close(),
  };
}
