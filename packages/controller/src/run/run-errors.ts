import { ProbeError, ERROR_CODES, type ErrorCode } from '@userprobe/shared';

/** The run could not run to completion (agents missing, refused, silent, timed out, aborted). */
export class RunError extends ProbeError {
  constructor(code: ErrorCode, message: string, options?: { detail?: Record<string, unknown> }) {
    super(code, message, options);
  }
}

export const agentsMissing = (message: string) => new RunError(ERROR_CODES.AGENTS_MISSING, message);
export const runTimeout = (message: string) => new RunError(ERROR_CODES.RUN_TIMEOUT, message);
export const runAborted = (message: string) => new RunError(ERROR_CODES.SESSION_ABORTED, message);
