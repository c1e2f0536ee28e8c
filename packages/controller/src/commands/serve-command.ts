import type { ServeConfig } from '../config/config.js';
import { Ingest } from '../hub/ingest.js';
import { openSinks } from '../results/sink-set.js';
import { listenOrExplain, type CommandIo } from './run-command.js';
import { EvidenceStore } from '../results/evidence-store.js';
import { deriveAgentToken } from '../trust/agent-token.js';
import { prepareOutDir } from '../config/out-dir.js';
import { ProgressReporter } from '../run/progress.js';
import { readRunResults } from '../results/run-folder-reader.js';
import { RESULT_FILES } from '../results/run-folder.js';
import { RunRegistry } from '../run/run-registry.js';
import { adoptRun, prepareAdoption, type AdoptedRun } from '../run/run-adopter.js';
import { describeError } from '@userprobe/shared';

/**
 * `controller serve`: the hub and ingest — accepts agents and their spool
 * replays into the results folder (and the database sink) — and the runs a
 * previous controller left open in that folder (it crashed or was killed):
 * each is re-adopted, followed to its end (its agents come back by
 * themselves) and closed with a summary. Starts nothing new. Ends on
 * SIGINT/SIGTERM with exit 0; a run still open then stays open for the next
 * controller.
 */
export async function serveCommand(cfg: ServeConfig, io: CommandIo): Promise<number> {
  await prepareOutDir(cfg.outDir);
  const sinks = await openSinks({ outDir: cfg.outDir, dbUrl: cfg.dbUrl, log: io.log, dbSinkFactory: io.dbSinkFactory });
  const ingest = new Ingest(sinks.all, io.log);
  const registry = new RunRegistry(cfg.outDir, io.log);
  // Runs a previous controller left open: read now, followed from the moment the hub listens.
  const toAdopt = await prepareAdoption(cfg.outDir, io.log);
  for (const p of toAdopt) registry.set(p.file);
  let hub;
  try {
    // Spooled evidence from agents (failed sessions of runs a previous controller started) lands here too.
    hub = await listenOrExplain(cfg, { ingest, log: io.log, runs: registry, evidence: new EvidenceStore({ outDir: cfg.outDir, log: io.log, secrets: [cfg.token], agentSecrets: (id) => [deriveAgentToken(cfg.token, id)], runs: registry }) });
  } catch (e) {
    await sinks.close();
    throw e;
  }
  const note = (s: string) => io.stderr.write(s + '\n');
  const progress = new ProgressReporter(io.stderr);
  hub.hub.on('agent:connected', (a) => note(`agent ${a.info.name} connected (${a.info.agentId}, ${a.info.location})`));
  hub.hub.on('agent:disconnected', (g) => note(`agent ${g.name} disconnected (${g.reason})`));
  ingest.on('ingested', (e) => { if (!e.duplicate) io.log.info(e, 'batch stored'); });

  const adopted: AdoptedRun[] = [];
  for (const p of toAdopt) {
    // Synchronous, right after listen: no agent event can be handled before its run is followed.
    const run = adoptRun(p, {
      outDir: cfg.outDir, pool: hub.hub, registry, sinks: sinks.all, progress, log: io.log, now: Date.now,
      results: {
        read: (id) => readRunResults(cfg.outDir, id),
        writeSummary: (id, s) => sinks.results.writeRunJson(id, RESULT_FILES.summary, s),
        writeRunJson: (id, file, value) => sinks.results.writeRunJson(id, file, value),
      },
    });
    adopted.push(run);
    void run.closed.then((o) => {
      note(`run ${run.runId} closed: ${o.status} (exit code ${o.exitCode})${o.error ? `: ${o.error.message}` : ''}; summary ${o.summaryPath}`);
    }, (e: unknown) => io.log.error({ runId: run.runId, err: describeError(e) }, 're-adopted run could not be closed'));
  }
  // The line scripts and tests wait for: the actual port.
  io.stdout.write(`controller listening on ${hub.url}\n`);
  const signal = await new Promise<string>((resolve) => { const off = io.onInterrupt((s) => { off(); resolve(s); }); });
  note(`received ${signal}: closing${adopted.length ? ' (runs still open stay open for the next controller)' : ''}`);
  await hub.close();
  await sinks.close();
  return 0;
}
