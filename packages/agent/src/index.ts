export * from './runner/scenario-api.js';
export { Agent, AGENT_SOFTWARE, type AgentOptions, type AgentExit } from './agent.js';
export {
  buildConfig,
  defaultCapacity,
  parseCapacity,
  parseLabels,
  type AgentConfig,
  type AgentFlags,
  type MachineFacts,
  LOG_LEVELS,
  type LogLevel,
} from './config/config.js';
export { resolveAgentId, newAgentId, type ResolvedAgentConfig } from './config/agent-id.js';
export { createLogger } from './logger.js';
export { Spool, type BatchKey } from './delivery/spool.js';
export { Sender, classifyAck, type SendOutcome, type SenderOptions } from './delivery/sender.js';
export { Connection, authErrorFrom, untrustedError } from './delivery/connection.js';
export { estimateOffset, syncClock, toLocalTime, toControllerTime, type ClockEstimate, type ClockSample } from './delivery/clock-sync.js';
export { BrowserPool, launchPlan, BASE_ARGS, DISABLED_FEATURES, disableFeaturesFlag, type SessionPages } from './host/browser-pool.js';
export { SessionRecorder, sessionStatus } from './runner/recorder.js';
export { RunBatcher } from './delivery/batcher.js';
export { Runner, type RunnerDeps, type RunResult, type SessionHost } from './runner/runner.js';
export { checkAssignment, policyRefusal, profileUrls } from './runner/assignment-check.js';
export { HostPolicy, neverAllowedReason, isInternalHost, parseHostPattern, type UrlPlace } from './trust/host-policy.js';
export { agentPolicy, type AgentPolicy } from './trust/agent-policy.js';
export { controllerUrlProblem, certificateFailure, readControllerCa } from './trust/controller-trust.js';
export { NavigationGuard, NAVIGATION_STEP } from './trust/navigation-guard.js';
export type { AgentSocket } from './delivery/agent-socket.js';
