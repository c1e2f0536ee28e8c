import { ERROR_CODES, StepError } from '@userprobe/shared';

/** How long a wait may take and what may cancel it. */
export interface WaitOptions {
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs: number;
}

/** The error an aborted wait rejects with: the signal's own reason when it is an Error. */
export function abortError(step: string, signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error && r.name !== 'AbortError') return r;
  return new StepError(step, `${step}: the session was aborted`, { code: ERROR_CODES.SESSION_ABORTED });
}

/**
 * Wait for an event-driven condition with a timeout and an abort signal.
 * `register` hooks the condition up and returns its cleanup; it settles the
 * promise through the callbacks it is given. Cleanup always runs.
 */
export function settleWithin<T>(
  step: string,
  opts: WaitOptions,
  timeoutError: () => Error,
  register: (resolve: (v: T) => void, reject: (e: unknown) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const { signal } = opts;
    if (signal?.aborted) {
      reject(abortError(step, signal));
      return;
    }
    let done = false;
    // eslint-disable-next-line prefer-const -- finish() may run inside register(), before the assignment: a const would still be in its temporal dead zone there
    let cleanup: (() => void) | undefined;
    const finish = (): void => {
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cleanup?.();
    };
    const onAbort = (): void => {
      if (done) return;
      finish();
      reject(abortError(step, signal!));
    };
    const timer = setTimeout(() => {
      if (done) return;
      finish();
      reject(timeoutError());
    }, opts.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = register(
      (v) => {
        if (!done) {
          finish();
          resolve(v);
        }
      },
      (e) => {
        if (!done) {
          finish();
          reject(e);
        }
      },
    );
    if (done) cleanup();
  });
}
