export { planRun, type PlanAgent, type PlanInput, type AgentShare } from './run/planner.js';
export { startOffsets, assignSessions, sessionId } from './run/ramp.js';
export { checkHello, type HelloCheck, type HelloAuth } from './hub/handshake.js';
export { AgentTokens, deriveAgentToken, tokenDigest, type TokenKind } from './trust/agent-token.js';
export { RevokedAgents, parseRevokedAgents, REVOKED_AGENTS_CHECK_MS, type Revocations } from './trust/revoked-agents.js';
export { AgentHub, listenHub, HUB_MAX_PACKET_BYTES, HUB_REFUSED_LOG_WINDOW_MS, type HubOptions, type HubTls, type ListeningHub } from './hub/hub.js';
export { agentInfoFromHello, type AgentHandle, type AgentPool, type AgentPoolEvents } from './hub/agent-pool.js';
export { Ingest, type IngestedEvent, type IngestEvents } from './hub/ingest.js';
export { ResultsSink, type ResultsSinkOptions } from './results/folder-sink.js';
export { EvidenceStore, type EvidenceStoreOptions } from './results/evidence-store.js';
export { readRunResults, readJsonl } from './results/run-folder-reader.js';
export { RESULT_FILES, runDir, type BatchKeyLine, type SampleLine, type SessionLine } from './results/run-folder.js';
export {
  summarizeRun,
  renderSummary,
  allSessionsOk,
  type RunSummary,
  type MetricSummary,
  type DetailSummary,
  type AgentSummary,
  type SummaryInput,
} from './run/summary.js';
export { RunCoordinator, EXIT, type RunParams, type RunOutcome, type CoordinatorDeps, type RunResultsStore } from './run/coordinator.js';
export { RunError } from './run/run-errors.js';
export { ProgressReporter, type Progress, type ProgressOutput } from './run/progress.js';
export {
  startLocalAgents,
  localAgentArgs,
  localAgentEnv,
  defaultAgentCli,
  localSpoolRoot,
  type LocalAgents,
  type LocalAgentsOptions,
} from './commands/local-agents.js';
export { resolveTarget, type ResolvedTarget, type TargetOptions } from './config/target.js';
export { launchDemo, type DemoKnobFlags } from './config/demo-launcher.js';
export {
  resolveRunConfig,
  resolveServeConfig,
  isLoopbackHost,
  listenProblem,
  publicParams,
  newRunId,
  deepFreeze,
  type RunConfig,
  type ServeConfig,
  type Env,
  type LogLevel,
} from './config/config.js';
export { openSinks, type Sinks, type DbSinkFactory } from './results/sink-set.js';
export { runCommand, type CommandIo } from './commands/run-command.js';
export { serveCommand } from './commands/serve-command.js';
export { createLogger } from './logger.js';
export type { Sink, RunInfo, AgentInfo, RunStatus } from './results/sink.js';
