/** chrome-har 1.3.1 ships no types; this is the part userprobe uses. */
declare module 'chrome-har' {
  export interface HarMessage {
    readonly method: string;
    readonly params: unknown;
  }
  export function harFromMessages(
    messages: readonly HarMessage[],
    options?: { includeResourcesFromDiskCache?: boolean; includeTextFromResponseBody?: boolean },
  ): { log: { version: string; creator: Record<string, unknown>; pages: Array<Record<string, unknown>>; entries: Array<Record<string, unknown>> } };
}
