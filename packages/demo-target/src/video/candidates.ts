import type { IceMode } from '../knobs/schema.js';

/**
 * ICE candidate filtering of the signaling server (pure), per the `ice` knob.
 * An empty candidate (end of candidates) always passes.
 */
export function keepCandidate(mode: IceMode, candidate: string): boolean {
  if (candidate.trim() === '') return true;
  switch (mode) {
    case 'all':
      return true;
    case 'drop':
      return false;
    default: {
      const never: never = mode;
      throw new Error(`unknown ice mode ${String(never)}`);
    }
  }
}

/** An SDP without the `a=candidate:` lines `mode` does not keep (every other line untouched). */
export function filterSdp(mode: IceMode, sdp: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  return sdp
    .split(eol)
    .filter((line) => !line.startsWith('a=candidate:') || keepCandidate(mode, line.slice(2)))
    .join(eol);
}
