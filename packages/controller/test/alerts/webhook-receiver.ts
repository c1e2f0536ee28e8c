import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Slack-compatible incoming-webhook receiver on loopback for tests: records
 * every POST body it accepts, in order; `script` decides each answer (e.g.
 * 500 three times, then 200), with an optional Retry-After. `hold()` keeps
 * every answer back until its release is called (a Slack that does not answer).
 */
export interface Receiver {
  readonly url: string;
  /** Bodies accepted (2xx), parsed, in arrival order. */
  readonly accepted: { text: string; blocks: unknown[] }[];
  /** Every request's status, in order. */
  readonly answers: number[];
  /** From now on, answer nothing until the returned release is called (then answer in arrival order). */
  hold(): () => void;
  close(): Promise<void>;
}

export async function startReceiver(script: (n: number) => { status: number; retryAfterS?: number } = () => ({ status: 200 })): Promise<Receiver> {
  const accepted: Receiver['accepted'] = [];
  const answers: number[] = [];
  let n = 0;
  let held: Promise<void> | null = null;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (): void => {
        const a = script(n++);
        answers.push(a.status);
        if (a.status >= 200 && a.status < 300) accepted.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Receiver['accepted'][number]);
        res.writeHead(a.status, a.retryAfterS === undefined ? {} : { 'retry-after': String(a.retryAfterS) }).end(a.status < 300 ? 'ok' : 'no');
      };
      if (held) void held.then(answer);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/XXXX`,
    accepted,
    answers,
    hold: () => {
      let release!: () => void;
      held = new Promise((r) => (release = r));
      return () => {
        held = null;
        release();
      };
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
