import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, IdSchema, mkdirPrivate, writeFileDurable } from '@userprobe/shared';
import type { AgentConfig } from './config.js';

export type ResolvedAgentConfig = Readonly<Omit<AgentConfig, 'agentId'> & { agentId: string; spoolDir: string }>;

const ID_FILE = 'agent-id';

/** A new id: the host name (sanitised) plus 8 random hex digits, e.g. `droplet-ams3-1-3f9a0c1e`. */
export function newAgentId(hostname: string): string {
  const base =
    hostname
      .toLowerCase()
      .replace(/[^a-z0-9.-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'agent';
  return `${base}-${randomBytes(4).toString('hex')}`;
}

/**
 * The agent id is `--id`, or a stable id persisted in `<spool root>/agent-id`
 * so restarts keep it. The spool of this agent is `<spool root>/<agent id>/`
 * (batches are numbered per run and agent, so the spool is keyed by the id).
 * Several agents on one machine: give each its own `--id` (or `--spool`).
 */
export async function resolveAgentId(config: AgentConfig, hostname: string): Promise<ResolvedAgentConfig> {
  await mkdirPrivate(config.spoolRoot);
  let agentId = config.agentId;
  if (agentId === null) {
    const file = join(config.spoolRoot, ID_FILE);
    const stored = await readFile(file, 'utf8').then(
      (s) => s.trim(),
      () => null,
    );
    if (stored !== null) {
      if (!IdSchema.safeParse(stored).success) {
        throw new ConfigError(`${file} holds "${stored.slice(0, 80)}", not an agent id (1-64 of A-Z a-z 0-9 . _ : -); fix or delete it, or pass --id`);
      }
      agentId = stored;
    } else {
      agentId = newAgentId(hostname);
      await writeFileDurable(file, `${agentId}\n`);
    }
  }
  return Object.freeze({ ...config, agentId, spoolDir: join(config.spoolRoot, agentId) });
}
