import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ConfigError, ERROR_CODES } from '@userprobe/shared';
import { resolveTarget, type ResolvedTarget } from './target.js';

/*
 * `--target demo` through the demo launcher, against the real demo on loopback:
 * the knob flags reach the demo untouched, the bundled demo profile
 * (profiles/demo.yaml) is filled with the origins this demo listens on, and its
 * patterns match the demo's real endpoints (the profile and the demo are kept
 * apart on purpose; this is where they are checked against each other).
 */

const log = pino({ level: 'silent' });

describe('--target demo (demo launcher)', () => {
  const open: ResolvedTarget[] = [];
  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
  });
  const demo = async (demoLatency: string[] = [], demoError: string[] = []): Promise<ResolvedTarget> => {
    const t = await resolveTarget({ target: 'demo', demoLatency, demoError, log });
    open.push(t);
    return t;
  };

  it('starts the demo with the knobs as given and fills the bundled profile with its origins', async () => {
    const t = await demo([], ['init=503']);
    const { profile } = t;
    expect(t.name).toBe('demo');
    const site = new URL(profile.visitor.url);
    const app = new URL(profile.agent.url);
    expect(site.href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(app.href).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/console\/$/);
    expect(t.description).toBe(`bundled demo target: site ${site.origin}, app ${app.origin}; injected: --demo-error init=503`);
    // The site is the demo's, embedding the widget from the app origin the profile names.
    expect(await (await fetch(site)).text()).toContain(`<script src="${app.origin}/widget/loader.js" async></script>`);
    expect((await fetch(app)).status).toBe(200);
    // The profile's patterns match the demo's real endpoints (and init answers with the injected error).
    const { requests, sockets } = profile.network;
    const init = `${app.origin}/api/widget/init`;
    expect(new RegExp(requests.init!.url).test(init)).toBe(true);
    expect((await fetch(init, { method: 'POST', body: '{}' })).status).toBe(503);
    const create = await fetch(`${app.origin}/api/chats`, { method: 'POST', body: '{"name":"launcher"}' });
    expect(create.status).toBe(201);
    const { chatId } = (await create.json()) as { chatId: string };
    expect(new RegExp(requests.create!.url).test(create.url)).toBe(true);
    expect(new RegExp(requests.addMessage!.url).test(`${app.origin}/api/chats/${chatId}/messages`)).toBe(true);
    expect(new RegExp(requests.cobrowseScript!.url).test(`${app.origin}/cobrowse/cobrowse.js`)).toBe(true);
    expect((await fetch(`${app.origin}/cobrowse/cobrowse.js`)).status).toBe(200);
    expect(new RegExp(sockets.crm!.url).test(`${app.origin}/crm/socket.io/?EIO=4&transport=polling`)).toBe(true);
    expect((await fetch(`${app.origin}/crm/socket.io/?EIO=4&transport=polling`)).status).toBe(200);
  });

  it('passes latency through: the demo runs with the knobs the operator named', async () => {
    const t = await demo(['create=300', 'realtime=50'], ['addMessage=503@0.25']);
    const app = new URL(t.profile.agent.url).origin;
    const knobs = (await (await fetch(`${app}/__knobs`)).json()) as { latency: Record<string, number>; errors: Record<string, unknown> };
    expect(knobs.latency).toMatchObject({ create: 300, realtime: 50, init: 0 });
    expect(knobs.errors).toEqual({ addMessage: { status: 503, rate: 0.25 } });
    expect(t.description).toMatch(/; injected: --demo-latency create=300, --demo-latency realtime=50, --demo-error addMessage=503@0.25$/);
  });

  it("a bad knob flag is a ConfigError in the demo's words, naming the flag the operator typed", async () => {
    const bad = async (latency: string[], error: string[]): Promise<unknown> =>
      resolveTarget({ target: 'demo', demoLatency: latency, demoError: error, log }).then(
        (t) => {
          open.push(t);
          return undefined;
        },
        (e: unknown) => e,
      );
    const e1 = await bad(['create'], []);
    expect(e1).toBeInstanceOf(ConfigError);
    expect((e1 as ConfigError).code).toBe(ERROR_CODES.CONFIG_INVALID);
    expect((e1 as ConfigError).message).toMatch(/^--demo-latency create: expected NAME=MS such as create=300; names: page, /);
    const e2 = await bad([], ['init=200']);
    expect(e2).toBeInstanceOf(ConfigError);
    expect((e2 as ConfigError).message).toMatch(/^--demo-error init=200: errors\.init\.status: an injected status is 400\.\.599; endpoints: init, /);
  });

  it('close() stops the demo', async () => {
    const t = await demo();
    const site = t.profile.visitor.url;
    expect((await fetch(site)).status).toBe(200);
    await open.pop()!.close();
    await expect(fetch(site)).rejects.toThrow();
  });
});
