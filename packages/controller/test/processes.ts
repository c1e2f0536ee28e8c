import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLIs (the test command builds first: `tsc -b && vitest run`). */
export const CONTROLLER_CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
export const AGENT_CLI = fileURLToPath(new URL('../../agent/dist/cli.js', import.meta.url));

export interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves when `re` matches the stream's output so far (default stderr); rejects if the process exits first. */
  waitFor: (re: RegExp, stream?: 'stdout' | 'stderr') => Promise<RegExpExecArray>;
}

/** Spawn a Node CLI with captured output. PROBE_TOKEN is cleared unless `env` sets it. */
export function startNode(script: string, args: string[], env: Record<string, string> = {}): Proc {
  return startProcess(process.execPath, [script, ...args], env);
}

/** Spawn any command with captured output (e.g. `ip netns exec NS node …`). PROBE_TOKEN is cleared unless `env` sets it. */
export function startProcess(command: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(command, args, { env: { ...process.env, PROBE_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    waiters.slice().forEach((w) => w());
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    waiters.slice().forEach((w) => w());
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (re, stream = 'stderr') =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(stream === 'stdout' ? out : err);
          if (m) {
            resolve(m);
            return true;
          }
          return false;
        };
        if (check()) return;
        const w = () => {
          if (check()) waiters.splice(waiters.indexOf(w), 1);
        };
        waiters.push(w);
        void exited.then(() => {
          if (!check()) reject(new Error(`exited before ${String(re)}; stderr: ${err.slice(-2000)}`));
        });
      }),
  };
}

/** The controller CLI. */
export function startCli(args: string[], env: Record<string, string> = {}): Proc {
  return startNode(CONTROLLER_CLI, args, env);
}
