import type { RunConfig } from '../config/config.js';
import { chooseBrowser, publicParams } from '../config/config.js';
import type { ResolvedTarget } from '../config/target.js';
import type { RunParams } from './coordinator.js';
import { runThresholds } from './thresholds.js';

/**
 * A run's parameters from a resolved `controller run` config and its target:
 * the one mapping used by `controller run`, by the daemon's monitor rounds
 * and by load tests submitted to the daemon. `over` sets what the caller
 * decides itself (a round's id, its share, the agents it waits for).
 */
export function runParamsOf(
  cfg: RunConfig,
  target: ResolvedTarget,
  over: Partial<
    Pick<RunParams, 'runId' | 'total' | 'expectAgents' | 'agentWaitMs' | 'checkName' | 'params' | 'rampUpMs' | 'drainTimeoutMs' | 'lossGraceMs' | 'thresholds'>
  > = {},
): RunParams {
  const { browser } = chooseBrowser(cfg, target.profile.browser);
  return {
    runId: cfg.runId,
    scenario: cfg.scenario,
    browser,
    total: cfg.total,
    rampUpMs: cfg.rampUpMs,
    durationMs: cfg.durationMs,
    expectAgents: cfg.expectAgents,
    agentWaitMs: cfg.agentWaitMs,
    drainTimeoutMs: cfg.drainTimeoutMs,
    profile: target.profile,
    targetName: target.name,
    options: cfg.options,
    params: publicParams(cfg),
    scenarioModule: cfg.scenarioModule,
    onAgentLoss: cfg.onAgentLoss,
    lossGraceMs: cfg.lossGraceMs,
    thresholds: runThresholds(cfg, target.profile),
    ...over,
  };
}
