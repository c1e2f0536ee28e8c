import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { ERROR_CODES, ProfileError, parseProfile, type TargetProfile } from '@userprobe/shared';

/**
 * `--target`: `demo` starts the bundled demo target in this process (with the
 * `--demo-latency` / `--demo-error` knobs) and uses its profile; anything else
 * is a YAML profile path, validated with errors that name the field.
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
  /** The demo binds here; agents must reach it (loopback for local agents). */
  readonly log: Logger;
}

export async function loadProfileFile(path: string): Promise<TargetProfile> {
  const abs = resolve(path);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ProfileError(
      `${path}: cannot read the profile (${code ?? String(e)}); --target accepts "demo" or the path of a YAML target profile`,
      { code: ERROR_CODES.PROFILE_NOT_FOUND, cause: e },
    );
  }
  return parseProfile(text, path);
}

export async function resolveTarget(opts: TargetOptions): Promise<ResolvedTarget> {
  if (opts.target !== 'demo') {
    const profile = await loadProfileFile(opts.target);
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
