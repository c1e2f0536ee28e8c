import type { RunResultsStore } from '../run/run-closer.js';
import type { ResultsSink } from './folder-sink.js';
import { RESULT_FILES } from './run-folder.js';
import { readRunResults } from './run-folder-reader.js';

/** What following and closing a run reads and writes in the results folder: its records, its summary, its JSON documents. */
export type RunFolderStore = RunResultsStore & { writeRunJson(runId: string, file: string, value: unknown): Promise<string> };

/** The results folder `outDir` (written through `sink`) as the store runs are followed and closed with. */
export function runFolderStore(outDir: string, sink: ResultsSink): RunFolderStore {
  return {
    read: (id) => readRunResults(outDir, id),
    writeSummary: (id, s) => sink.writeRunJson(id, RESULT_FILES.summary, s),
    writeRunJson: (id, file, value) => sink.writeRunJson(id, file, value),
  };
}
