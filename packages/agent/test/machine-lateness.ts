import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * What this machine adds to a delayed loopback request outside any browser: a
 * separate Node process POSTs to `url`, an endpoint that answers after
 * `injectedMs` (the demo's create with its knob set, or a test server's own
 * delayed route), 5 times, 100 ms apart; returns
 * the median of (elapsed − injected), at least 0. On the project's first VMs
 * this was 1–3 ms; on Firecracker VMs whose vCPUs halt without polling
 * (haltpoll.guest_halt_poll_ns=0) every process that slept through the delay
 * wakes late, 10–20 ms in all (docs/platform-notes.md). Timing tests allow it
 * above their 5 ms + 2 % bar, never below.
 */
export async function machineLatenessMs(url: string, injectedMs: number): Promise<number> {
  const script = `const u=process.argv[1];const out=[];for(let i=0;i<5;i++){await new Promise(r=>setTimeout(r,100));const t=performance.now();` +
    `const r=await fetch(u,{method:'POST',headers:{'content-type':'application/json'},body:'{"name":"probe"}'});await r.text();out.push(performance.now()-t);}` +
    `console.log(JSON.stringify(out));`;
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script, url]);
  const v = (JSON.parse(stdout) as number[]).map((x) => x - injectedMs).sort((a, b) => a - b);
  return Math.max(0, v[Math.floor(v.length / 2)]!);
}

/** The same on the demo target: its create endpoint, with the create knob set for the probe and reset after. */
export async function demoLatenessMs(
  demo: { appUrl: string; knobs: { reset(): unknown; set(patch: { latency: { create: number } }): unknown } },
  injectedMs: number,
): Promise<number> {
  demo.knobs.reset();
  demo.knobs.set({ latency: { create: injectedMs } });
  try {
    return await machineLatenessMs(`${demo.appUrl}/api/chats`, injectedMs);
  } finally {
    demo.knobs.reset();
  }
}
