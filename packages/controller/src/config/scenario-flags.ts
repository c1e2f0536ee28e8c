import type { Options } from 'yargs';
import { SCENARIO_OPTIONS, SCENARIO_OPTION_KEYS, type OptionSpec } from '@userprobe/shared';

/**
 * The `controller run` flags of the scenario options, derived from their
 * table (packages/shared options/scenario-options.ts): type, choices, help
 * with an example and the accepted values, the default as help text. No
 * yargs default: a flag not given stays absent and takes the table's default
 * when the config is resolved (or the target profile's, for the timeouts).
 */
export function scenarioOptionFlags(): Record<string, Options> {
  return Object.fromEntries(
    SCENARIO_OPTION_KEYS.map((key) => {
      const s: OptionSpec<unknown> = SCENARIO_OPTIONS[key];
      // yargs lists a choice's values and a boolean's type itself; the other kinds say what they accept.
      const accepted = s.choices === null && s.flagType !== 'boolean' ? ` Accepted: ${s.accepted}.` : '';
      const option: Options = {
        type: s.flagType,
        describe: `${s.help}.${accepted} E.g. ${s.example}`,
        defaultDescription: s.defaultText,
        ...(s.choices === null ? {} : { choices: s.choices }),
      };
      return [s.flag, option];
    }),
  );
}
