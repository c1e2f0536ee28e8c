import { expectTypeOf, test } from 'vitest';
import type { Assignment, AssignmentInput } from '../messages.js';
import type { SCENARIO_OPTIONS, HarMode, InputMode } from './scenario-options.js';
import type { ScenarioOptionChoices, ScenarioOptions } from './scenario-option-bag.js';
import type { ThinkTime } from './think-time.js';

test('the option bags are the table, typed', () => {
  expectTypeOf<keyof ScenarioOptions>().toEqualTypeOf<keyof typeof SCENARIO_OPTIONS>();
  expectTypeOf<keyof ScenarioOptionChoices>().toEqualTypeOf<keyof typeof SCENARIO_OPTIONS>();
  expectTypeOf<Assignment['options']>().toEqualTypeOf<ScenarioOptions>();
  expectTypeOf<ScenarioOptions['har']>().toEqualTypeOf<HarMode>();
  expectTypeOf<ScenarioOptions['input']>().toEqualTypeOf<InputMode>();
  expectTypeOf<ScenarioOptions['thinkTime']>().toEqualTypeOf<ThinkTime>();
  expectTypeOf<ScenarioOptions['stepTimeoutMs']>().toEqualTypeOf<number>();
  // An option with a profile fallback is null until the profile is known; the others always have a value.
  expectTypeOf<ScenarioOptionChoices['stepTimeoutMs']>().toEqualTypeOf<number | null>();
  expectTypeOf<ScenarioOptionChoices['messages']>().toEqualTypeOf<number>();
  // On the wire the defaulted options may be left out, the timeouts may not.
  expectTypeOf<AssignmentInput['options']['messages']>().toEqualTypeOf<number | undefined>();
  expectTypeOf<AssignmentInput['options']['sessionTimeoutMs']>().toEqualTypeOf<number>();
  // @ts-expect-error: not an option
  expectTypeOf<ScenarioOptions['notAnOption']>().toBeNumber();
});
