import { describe, expect, it } from 'vitest';
import { DemoConfigError } from './errors.js';
import { injectedStatus } from './knobs/decide.js';
import { knobsFromFlags } from './knobs/flags.js';
import { applyKnobsPatch, defaultKnobs, parseKnobsPatch } from './knobs/schema.js';
import { KnobStore } from './knobs/store.js';
import { compilePattern, Router } from './http/router.js';

describe('parseKnobsPatch', () => {
  it.each([
    [{}, true],
    [{ latency: { create: 300 } }, true],
    [{ latency: { create: 0, realtime: 600_000 } }, true],
    [{ errors: { init: { status: 500 } } }, true],
    [{ errors: { init: { status: 503, rate: 0.5 } } }, true],
    [{ errors: { init: null } }, true],
    [{ latency: { signaling: 5, cobrowseScript: 5, cobrowseEvents: 5 } }, true],
    [{ latency: { create: -1 } }, false],
    [{ latency: { create: 1.5 } }, false],
    [{ latency: { create: '300' } }, false],
    [{ latency: { create: 600_001 } }, false],
    [{ latency: { nope: 1 } }, false],
    [{ errors: { init: { status: 200 } } }, false],
    [{ errors: { init: { status: 500, rate: 2 } } }, false],
    [{ errors: { crmConnect: { status: 500 } } }, false],
    [{ other: 1 }, false],
    [[], false],
    ['x', false],
  ])('%j → valid=%s', (input, valid) => {
    expect(parseKnobsPatch(input).ok).toBe(valid);
  });

  it('says what was wrong and what is accepted', () => {
    const r = parseKnobsPatch({ latency: { create: -5 } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toContain('latency.create');
    expect(r.message).toContain('0..600000');
    expect(r.message).toContain('latency knobs: page, widgetScript, init, create');
  });
});

describe('applyKnobsPatch', () => {
  it('merges latencies, sets and clears errors, and leaves the input untouched', () => {
    const base = defaultKnobs();
    const p1 = parseKnobsPatch({ latency: { create: 300 }, errors: { init: { status: 500 } } });
    if (!p1.ok) throw new Error(p1.message);
    const k1 = applyKnobsPatch(base, p1.patch);
    expect(k1.latency.create).toBe(300);
    expect(k1.latency.init).toBe(0);
    expect(k1.errors).toEqual({ init: { status: 500, rate: 1 } });
    expect(base.latency.create).toBe(0);
    const p2 = parseKnobsPatch({ latency: { init: 10 }, errors: { init: null } });
    if (!p2.ok) throw new Error(p2.message);
    const k2 = applyKnobsPatch(k1, p2.patch);
    expect(k2.latency).toMatchObject({ create: 300, init: 10 });
    expect(k2.errors).toEqual({});
  });
});

describe('injectedStatus', () => {
  it.each([
    [undefined, 0, null],
    [{ status: 500, rate: 1 }, 0.999, 500],
    [{ status: 500, rate: 1 }, 0, 500],
    [{ status: 503, rate: 0.25 }, 0.24, 503],
    [{ status: 503, rate: 0.25 }, 0.25, null],
    [{ status: 503, rate: 0 }, 0, null],
  ])('%j with draw %d → %s', (error, draw, status) => {
    expect(injectedStatus(error, draw)).toBe(status);
  });
});

describe('knobsFromFlags', () => {
  it('reads latency and error flags', () => {
    expect(knobsFromFlags(['create=300', 'realtime=50'], ['init=500', 'addMessage=503@0.1'])).toEqual({
      latency: { create: 300, realtime: 50 },
      errors: { init: { status: 500 }, addMessage: { status: 503, rate: 0.1 } },
    });
  });
  it.each([
    [['create'], [], /expected NAME=MS/],
    [['create=-1'], [], /expected NAME=MS/],
    [['bogus=1'], [], /^--latency bogus=1: latency: Unrecognized key: "bogus"; names: page, /],
    [['create=700000'], [], /^--latency create=700000: latency\.create: .*; names: page, /],
    [[], ['init'], /expected ENDPOINT=STATUS/],
    [[], ['init=200'], /^--error init=200: errors\.init\.status: an injected status is 400\.\.599; endpoints: init, /],
    [[], ['init=500@3'], /^--error init=500@3: errors\.init\.rate: .*0\.\.1/],
    [[], ['chat=500'], /^--error chat=500: errors: Unrecognized key: "chat"; endpoints: init, /],
  ])('%j %j is refused', (lat, err, message) => {
    expect(() => knobsFromFlags(lat, err)).toThrow(DemoConfigError);
    expect(() => knobsFromFlags(lat, err)).toThrow(message);
  });
  it('names the flags the way the host spelled them (the controller passes --demo-latency through)', () => {
    expect(() => knobsFromFlags(['create'], [])).toThrow(/^--latency create: /);
    expect(() => knobsFromFlags(['create'], [], '--demo-')).toThrow(/^--demo-latency create: /);
    expect(() => knobsFromFlags([], ['init'], '--demo-')).toThrow(/^--demo-error init: /);
  });
});

describe('KnobStore', () => {
  it('starts from its initial patch, merges, resets, and refuses bad patches', () => {
    const store = new KnobStore({ latency: { create: 300 } });
    expect(store.latency('create')).toBe(300);
    store.set({ latency: { init: 5 } });
    expect(store.get().latency).toMatchObject({ create: 300, init: 5 });
    expect(() => store.set({ latency: { init: -1 } })).toThrow(DemoConfigError);
    expect(store.reset().latency).toMatchObject({ create: 300, init: 0 });
    const copy = store.get();
    copy.latency.create = 1;
    expect(store.latency('create')).toBe(300);
  });
  it('refuses bad initial knobs', () => {
    expect(() => new KnobStore({ latency: { create: -1 } })).toThrow(DemoConfigError);
  });
});

describe('Router', () => {
  it('matches patterns with params and tells 404 from 405', () => {
    expect(compilePattern('/api/chats/:id/messages').regex.test('/api/chats/abc/messages')).toBe(true);
    expect(compilePattern('/api/chats/:id/messages').regex.test('/api/chats/a/b/messages')).toBe(false);
    const r = new Router();
    const h = (): void => {};
    r.add('POST', '/api/chats/:id/messages', h);
    r.add('GET', '/widget/loader.js', h);
    const m = r.match('POST', '/api/chats/x%20y/messages');
    expect(m).not.toBeTypeOf('string');
    if (typeof m !== 'string') expect(m.params).toEqual({ id: 'x y' });
    expect(r.match('GET', '/api/chats/x/messages')).toBe('method-not-allowed');
    expect(r.match('GET', '/widget/loaderXjs')).toBe('not-found');
    expect(r.match('HEAD', '/widget/loader.js')).not.toBeTypeOf('string');
  });
});
