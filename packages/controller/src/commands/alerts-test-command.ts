import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '@userprobe/shared';
import { loadMonitorConfig } from '../monitor/monitor-config.js';
import { Alerts } from '../monitor/alerts/alerts.js';
import { SlackOutbox } from '../monitor/alerts/slack-outbox.js';
import { EXIT } from '../run/coordinator.js';

/** How long `alerts test` tries (Slack retries included) before it gives up. */
export const ALERTS_TEST_TIMEOUT_MS = 30_000;

/**
 * `controller alerts test --config monitor.yaml`: one sample alert message to
 * the webhook the config names (its environment variable), through the same
 * outbox and retries as the daemon's, so an operator sees the wiring work.
 * Exit 0 sent, 2 no webhook configured (or a bad config), 3 not accepted in time.
 */
export async function alertsTestCommand(p: {
  configFile: string;
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  out: (l: string) => void;
  timeoutMs?: number;
}): Promise<number> {
  const config = await loadMonitorConfig(p.configFile);
  const url = p.env[config.alerts.webhookEnv]?.trim();
  if (!url)
    throw new ConfigError(
      `${config.alerts.webhookEnv} is not set: export it with the Slack incoming webhook URL (https://hooks.slack.com/services/…) the daemon will use`,
    );
  const dir = await mkdtemp(join(tmpdir(), 'userprobe-alerts-test-'));
  const outbox = await SlackOutbox.open({ dir, webhookUrl: url, log: p.log, retryMinMs: 1_000, retryMaxMs: 5_000 });
  try {
    const check = config.checks[0]!;
    await outbox.enqueue(Alerts.sample(check.name, check.scenario, config.alerts, Date.now()));
    const deadline = Date.now() + (p.timeoutMs ?? ALERTS_TEST_TIMEOUT_MS);
    while (outbox.sent === 0 && (await outbox.pending()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (outbox.sent === 1) {
      p.out(
        `sent a sample alert to the webhook in ${config.alerts.webhookEnv} (host ${new URL(url).host})${config.alerts.grafanaUrl ? `, linking to ${config.alerts.grafanaUrl}` : '; set alerts.grafanaUrl for dashboard links'}`,
      );
      return EXIT.OK;
    }
    const rejected = (await outbox.pending()) === 0;
    p.out(
      rejected
        ? `the webhook in ${config.alerts.webhookEnv} refused the message for good (a wrong or revoked URL?); see the log`
        : `the webhook in ${config.alerts.webhookEnv} did not accept the message within ${Math.round((p.timeoutMs ?? ALERTS_TEST_TIMEOUT_MS) / 1000)}s (Slack down, or no network?); see the log (--log-level info)`,
    );
    return EXIT.RUN_FAILED;
  } finally {
    await outbox.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
