// Types of proc-split.mjs, for its test.
export type ProcessKind = 'agent' | 'browser' | 'gpu' | 'renderer' | 'utility' | 'other';
export const PROCESS_KINDS: readonly ProcessKind[];
export function processKind(cmdline: string, isRoot: boolean): ProcessKind;
export function sumByKind(seen: Iterable<{ kind: ProcessKind; first: number; last: number }>, clkTck?: number): Record<ProcessKind, number>;
export interface SplitResult {
  readonly byKind: Record<ProcessKind, number>;
  readonly tree: number;
  readonly coverage: number | null;
  readonly processes: number;
}
export class CpuSplit {
  constructor(root: number);
  poll(): void;
  result(): SplitResult;
}
