import type { Logger } from 'pino';
import { isDemoTarget, resolveProfile, type TargetProfile } from '@userprobe/shared';
import { launchDemo } from './demo-launcher.js';

export interface ResolvedTarget {
  readonly name: string;
  readonly profile: TargetProfile;
  /** One line for the operator: what is being measured. */
  readonly description: string;
  close(): Promise<void>;
}

export interface TargetOptions {
  readonly target: string;
  /** `--demo-latency` values, passed to the demo untouched (`--target demo` only). */
  readonly demoLatency: readonly string[];
  /** `--demo-error` values, passed to the demo untouched (`--target demo` only). */
  readonly demoError: readonly string[];
  /** Values for `${NAME}` placeholders in a profile file (`--profile-var NAME=VALUE`). */
  readonly profileVars?: Readonly<Record<string, string>>;
  readonly log: Logger;
}

/**
 * `--target`: a bundled profile's name (`demo`, or one of its example shapes such as
 * `demo-socket-chat`) starts the bundled demo target in this process through the demo
 * launcher (which passes the `--demo-latency` / `--demo-error` values through) and uses that
 * profile; anything else is a YAML profile path (shared `resolveProfile`), validated with
 * errors that name the field.
 */
export async function resolveTarget(opts: TargetOptions): Promise<ResolvedTarget> {
  if (isDemoTarget(opts.target)) return launchDemo({ latency: opts.demoLatency, error: opts.demoError }, opts.log, opts.target);
  const { profile } = await resolveProfile(opts.target, opts.profileVars ?? {});
  return { name: profile.name, profile, description: `target profile ${opts.target} (${profile.name}): ${profile.visitor.url}`, close: async () => {} };
}
