import type { InjectedError } from './schema.js';

/**
 * Whether a request gets the injected error: the status to answer with, or
 * null for the real response. `random` is a uniform draw in [0, 1).
 */
export function injectedStatus(error: InjectedError | undefined, random: number): number | null {
  if (!error) return null;
  return random < error.rate ? error.status : null;
}
