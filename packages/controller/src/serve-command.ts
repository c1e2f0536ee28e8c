import type { ServeConfig } from './config.js';
import { Ingest } from './ingest.js';
import { openSinks } from './sinks.js';
import { listenOrExplain, type CommandIo } from './run-command.js';
import { EvidenceStore } from './evidence-store.js';
import { prepareOutDir } from './out-dir.js';

/**
 * `controller serve`: the hub and ingest only — accepts agents and their
 * spool replays into the results folder (and the database sink), runs nothing.
 * Ends on SIGINT/SIGTERM with exit 0.
 */
export async function serveCommand(cfg: ServeConfig, io: CommandIo): Promise<number> {
  await prepareOutDir(cfg.outDir);
  const sinks = await openSinks({ outDir: cfg.outDir, dbUrl: cfg.dbUrl, log: io.log, dbSinkFactory: io.dbSinkFactory });
  const ingest = new Ingest(sinks.all, io.log);
  let hub;
  try {
    // Spooled evidence from agents (failed sessions of runs a previous controller started) lands here too.
    hub = await listenOrExplain(cfg, { token: cfg.token, ingest, log: io.log, evidence: new EvidenceStore({ outDir: cfg.outDir, log: io.log, secrets: [cfg.token] }) });
  } catch (e) {
    await sinks.close();
    throw e;
  }
  const note = (s: string) => io.stderr.write(s + '\n');
  hub.hub.on('agent:connected', (a) => note(`agent ${a.info.name} connected (${a.info.agentId}, ${a.info.location})`));
  hub.hub.on('agent:disconnected', (g) => note(`agent ${g.name} disconnected (${g.reason})`));
  ingest.on('ingested', (e) => { if (!e.duplicate) io.log.info(e, 'batch stored'); });
  // The line scripts and tests wait for: the actual port.
  io.stdout.write(`controller listening on ${hub.url}\n`);
  const signal = await new Promise<string>((resolve) => { const off = io.onInterrupt((s) => { off(); resolve(s); }); });
  note(`received ${signal}: closing`);
  await hub.close();
  await sinks.close();
  return 0;
}
