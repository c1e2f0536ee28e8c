/*
 * The error taxonomy. Every error userprobe raises on purpose is a ProbeError
 * with a stable `code`; callers branch on the class or the code, never on the
 * message text. Messages say what was wrong and what would be accepted.
 */

export const ERROR_CODES = {
  CONFIG_INVALID: 'E_CONFIG_INVALID',
  PROFILE_INVALID: 'E_PROFILE_INVALID',
  PROFILE_NOT_FOUND: 'E_PROFILE_NOT_FOUND',
  SCENARIO_UNKNOWN: 'E_SCENARIO_UNKNOWN',
  MESSAGE_INVALID: 'E_MESSAGE_INVALID',
  MESSAGE_TOO_LARGE: 'E_MESSAGE_TOO_LARGE',
  AUTH_REJECTED: 'E_AUTH_REJECTED',
  /** A second agent process claimed the id of a connected, answering agent. */
  AGENT_DUPLICATE: 'E_AGENT_DUPLICATE',
  /** The agent's id is listed in the controller's --revoked-agents file. */
  AGENT_REVOKED: 'E_AGENT_REVOKED',
  /** The controller's TLS certificate did not verify (system CAs, or the agent's --ca). */
  CONTROLLER_UNTRUSTED: 'E_CONTROLLER_UNTRUSTED',
  /** The agent's operator does not allow it: a scenario module outside --scenario-dir, a host not in --allow-host, a variable not in --secret-env. */
  NOT_ALLOWED: 'E_NOT_ALLOWED',
  PROTOCOL_MISMATCH: 'E_PROTOCOL_MISMATCH',
  PLAN_INFEASIBLE: 'E_PLAN_INFEASIBLE',
  AGENTS_MISSING: 'E_AGENTS_MISSING',
  TARGET_UNREACHABLE: 'E_TARGET_UNREACHABLE',
  BROWSER_UNAVAILABLE: 'E_BROWSER_UNAVAILABLE',
  STEP_FAILED: 'E_STEP_FAILED',
  STEP_TIMEOUT: 'E_STEP_TIMEOUT',
  SESSION_ABORTED: 'E_SESSION_ABORTED',
  SPOOL_IO: 'E_SPOOL_IO',
  SINK_UNAVAILABLE: 'E_SINK_UNAVAILABLE',
  SINK_PERMANENT: 'E_SINK_PERMANENT',
  RUN_TIMEOUT: 'E_RUN_TIMEOUT',
  RUN_UNKNOWN: 'E_RUN_UNKNOWN',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export class ProbeError extends Error {
  readonly code: ErrorCode;
  /** Extra structured detail, safe to log (never secrets). */
  readonly detail: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; detail?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.detail = options?.detail;
  }

  toJSON(): { name: string; code: ErrorCode; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** Bad operator input: flags, config files, environment. */
export class ConfigError extends ProbeError {
  constructor(message: string, options?: { cause?: unknown; detail?: Record<string, unknown> }) {
    super(ERROR_CODES.CONFIG_INVALID, message, options);
  }
}

/** A target profile that does not parse or validate. `path` names the bad field. */
export class ProfileError extends ProbeError {
  constructor(message: string, options?: { cause?: unknown; detail?: Record<string, unknown>; code?: ErrorCode }) {
    super(options?.code ?? ERROR_CODES.PROFILE_INVALID, message, options);
  }
}

/** An inbound wire message that failed its schema. */
export class MessageError extends ProbeError {
  constructor(message: string, options?: { cause?: unknown; detail?: Record<string, unknown> }) {
    super(ERROR_CODES.MESSAGE_INVALID, message, options);
  }
}

/** Why an agent cannot join its controller, for good: refused handshakes, and a controller certificate that does not verify. */
export type AuthErrorCode =
  | typeof ERROR_CODES.AUTH_REJECTED
  | typeof ERROR_CODES.PROTOCOL_MISMATCH
  | typeof ERROR_CODES.AGENT_DUPLICATE
  | typeof ERROR_CODES.AGENT_REVOKED
  | typeof ERROR_CODES.CONTROLLER_UNTRUSTED;

/** The controller refused the agent's handshake (token, protocol version, duplicate or revoked id), or its certificate did not verify. */
export class AuthError extends ProbeError {
  constructor(code: AuthErrorCode, message: string) {
    super(code, message);
  }
}

/** The run cannot be planned on the cluster as it is (capacity, scenario). */
export class PlanError extends ProbeError {
  constructor(message: string, options?: { detail?: Record<string, unknown>; code?: ErrorCode }) {
    super(options?.code ?? ERROR_CODES.PLAN_INFEASIBLE, message, options);
  }
}

/** A scenario step failed; recorded as data with the step's name. */
export class StepError extends ProbeError {
  readonly step: string;
  constructor(step: string, message: string, options?: { cause?: unknown; detail?: Record<string, unknown>; code?: ErrorCode }) {
    super(options?.code ?? ERROR_CODES.STEP_FAILED, message, options);
    this.step = step;
  }
}

export function isProbeError(e: unknown): e is ProbeError {
  return e instanceof ProbeError;
}

/** A short, secret-free description of any thrown value, for logs and records. */
export function describeError(e: unknown): { code: string; message: string } {
  if (e instanceof ProbeError) return { code: e.code, message: e.message };
  if (e instanceof Error) return { code: (e as { code?: string }).code ?? e.name, message: e.message };
  return { code: 'E_UNKNOWN', message: String(e) };
}
