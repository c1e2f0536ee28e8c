import { describe, it, expect } from 'vitest';
import { START_LEAD_MS, startLeadMs } from './limits.js';

describe('startLeadMs', () => {
  it.each([
    [0, START_LEAD_MS],
    [1, START_LEAD_MS + 1],
    [4, START_LEAD_MS + 2],
    [1_000, START_LEAD_MS + 500],
    [5_000, START_LEAD_MS + 2_500],
    [-3, START_LEAD_MS],
  ])('%i agent(s): %i ms', (agents, lead) => {
    expect(startLeadMs(agents)).toBe(lead);
  });
});
