/** The controller's exit codes (README: "Exit codes"); a module of its own so the CLI can exit without loading a run's code. */
export const EXIT = { OK: 0, SESSIONS_FAILED: 1, BAD_INPUT: 2, RUN_FAILED: 3, THRESHOLDS_FAILED: 99 } as const;
