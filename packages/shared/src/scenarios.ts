export const SCENARIOS = ['chat-load', 'video-call', 'cobrowse'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export function isScenarioName(s: string): s is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(s);
}

/** Which Chromium runs the sessions: the old headless shell, or full Chromium (new headless). */
export const BROWSER_KINDS = ['shell', 'chromium'] as const;
export type BrowserKind = (typeof BROWSER_KINDS)[number];
