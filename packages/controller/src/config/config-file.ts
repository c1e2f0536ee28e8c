import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '@userprobe/shared';

/*
 * What the controller's config files (`serve --config` monitor.yaml, `run --config`)
 * share: how one is read, and how its problems are said.
 */

/** Read a YAML config file given as `--config FILE`: its document, or a ConfigError saying why not. */
export async function readYamlConfig(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`--config ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    return parseYaml(text) as unknown;
  } catch (e) {
    throw new ConfigError(`--config ${file}: not valid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
}

/** One error for every problem found in a config file, each on its own line, so a user fixes them all in one round. */
export function configProblemsError(file: string, problems: readonly string[]): ConfigError {
  return new ConfigError(`--config ${file}: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
