import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { doseResponse, expectVerdicts } from '@userprobe/testkit';
import type { Socket } from 'socket.io-client';
import { useRealtimeFixture, once, connected } from '../../test/realtime-fixture.js';
import { COBROWSE_SOCKET_PATH } from './server.js';
import { MAX_TREE_DEPTH, jsonDepth, type SnapNode } from './wire.js';

/*
 * The cobrowse server over real Socket.IO on loopback (no browser), and the
 * on-request script route: start → visitor, accept/snapshot/mutations → agent,
 * scroll/highlight → visitor, each after the `cobrowseEvents` delay (a dose
 * response from Node, @userprobe/testkit); the script after `cobrowseScript`;
 * bad payloads refused.
 */

const D = 150;

const fx = useRealtimeFixture(COBROWSE_SOCKET_PATH);
const { connect, post } = fx;

const ROOT: SnapNode = {
  id: 1,
  t: 'el',
  tag: 'html',
  attrs: {},
  kids: [{ id: 2, t: 'el', tag: 'body', attrs: { class: 'x' }, kids: [{ id: 3, t: 'text', text: 'hi' }] }],
};

/** A chat's visitor page and an agent in a started, accepted session. */
async function session(): Promise<{ visitor: Socket; agent: Socket; sessionId: string }> {
  const chat = await post('/api/chats', { name: 'v' });
  const { token } = await post('/api/agent/login', { username: 'agent', password: 'demo' });
  const agent = connect({ role: 'agent', token: token! });
  await connected(agent);
  const visitor = connect({ role: 'visitor', chatId: chat['chatId']!, visitorToken: chat['visitorToken']! });
  await connected(visitor);
  const started = once<{ sessionId: string }>(visitor, 'cobrowse:start');
  expect(await agent.emitWithAck('cobrowse:start', { chatId: chat['chatId'] })).toMatchObject({ ok: true });
  const { sessionId } = await started;
  const accepted = once(agent, 'cobrowse:accepted');
  expect(await visitor.emitWithAck('cobrowse:accepted', { sessionId })).toMatchObject({ ok: true });
  await accepted;
  return { visitor, agent, sessionId };
}

describe('cobrowse server', () => {
  it('relays the snapshot and mutations to the agent, scroll and highlight to the visitor page', async () => {
    const s = await session();
    const snap = once<Record<string, unknown>>(s.agent, 'cobrowse:snapshot');
    const snapshot = { sessionId: s.sessionId, url: 'http://127.0.0.1/', viewport: { width: 800, height: 600 }, root: ROOT };
    expect(await s.visitor.emitWithAck('cobrowse:snapshot', snapshot)).toMatchObject({ ok: true });
    expect(await snap).toEqual(snapshot);
    const muts = once<Record<string, unknown>>(s.agent, 'cobrowse:mutations');
    const m = {
      sessionId: s.sessionId,
      seq: 1,
      ops: [
        { op: 'text', id: 3, text: 'changed' },
        { op: 'add', parent: 2, before: null, node: { id: 4, t: 'text', text: '!' } },
        { op: 'remove', id: 4 },
        { op: 'attr', id: 2, name: 'class', value: null },
      ],
    };
    await s.visitor.emitWithAck('cobrowse:mutations', m);
    expect(await muts).toEqual(m);
    const scrolled = once(s.visitor, 'cobrowse:scroll');
    await s.agent.emitWithAck('cobrowse:scroll', { sessionId: s.sessionId, x: 0, y: 500 });
    expect(await scrolled).toEqual({ sessionId: s.sessionId, x: 0, y: 500 });
    const lit = once(s.visitor, 'cobrowse:highlight');
    await s.agent.emitWithAck('cobrowse:highlight', { sessionId: s.sessionId, nodeId: 3 });
    expect(await lit).toEqual({ sessionId: s.sessionId, nodeId: 3 });
    const ended = once<{ reason: string }>(s.visitor, 'cobrowse:ended');
    await s.agent.emitWithAck('cobrowse:stop', { sessionId: s.sessionId });
    expect((await ended).reason).toBe('stopped');
  });

  it(`cobrowseEvents delays every relayed event by ${D} ms`, async () => {
    const s = await session();
    let seq = 0;
    const { experiment, verdict } = await doseResponse({
      metric: `relayed cobrowse event with cobrowseEvents=${D}`,
      injectedMs: D,
      rounds: 3,
      measure: async (delay) => {
        fx.target().knobs.set({ latency: { cobrowseEvents: delay } });
        const t0 = performance.now();
        const muts = once(s.agent, 'cobrowse:mutations');
        await s.visitor.emitWithAck('cobrowse:mutations', { sessionId: s.sessionId, seq: ++seq, ops: [] });
        await muts;
        return performance.now() - t0;
      },
    });
    expectVerdicts('demo cobrowseEvents knob', experiment, [verdict]);
  });

  it('serves the cobrowse script after cobrowseScript ms, with the app origin filled in', async () => {
    const { experiment, verdict } = await doseResponse({
      metric: `cobrowse script with cobrowseScript=${D}`,
      injectedMs: D,
      rounds: 3,
      measure: async (delay) => {
        fx.target().knobs.set({ latency: { cobrowseScript: delay } });
        const t0 = performance.now();
        const res = await fetch(`${fx.target().appUrl}/cobrowse/cobrowse.js`);
        const text = await res.text();
        const ms = performance.now() - t0;
        expect(res.status).toBe(200);
        expect(text).toContain(`var APP = '${fx.target().appUrl}'`);
        return ms;
      },
    });
    expectVerdicts('demo cobrowseScript knob', experiment, [verdict]);
  });

  it('refuses bad payloads and events out of turn, saying why', async () => {
    const s = await session();
    let deep: SnapNode = { id: 1, t: 'text', text: 'x' };
    for (let i = 2; i < MAX_TREE_DEPTH * 3; i++) deep = { id: i, t: 'el', tag: 'div', attrs: {}, kids: [deep] };
    expect(await s.visitor.emitWithAck('cobrowse:snapshot', { sessionId: s.sessionId, url: '', viewport: { width: 1, height: 1 }, root: deep })).toMatchObject({
      ok: false,
      error: expect.stringContaining('nested deeper'),
    });
    expect(await s.visitor.emitWithAck('cobrowse:mutations', { sessionId: s.sessionId, seq: 1, ops: [{ op: 'explode' }] })).toMatchObject({
      ok: false,
      error: expect.stringContaining('bad cobrowse:mutations'),
    });
    expect(
      await s.visitor.emitWithAck('cobrowse:snapshot', {
        sessionId: s.sessionId,
        url: '',
        viewport: { width: 1, height: 1 },
        root: { id: 1, t: 'el', tag: 'SCRIPT!', attrs: {}, kids: [] },
      }),
    ).toMatchObject({ ok: false, error: expect.stringContaining('a lower-case tag name') });
    expect(await s.agent.emitWithAck('cobrowse:scroll', { sessionId: 'nope', x: 0, y: 0 })).toEqual({
      ok: false,
      error: 'unknown or ended cobrowse session nope',
    });
    const chat = await post('/api/chats', { name: 'offline' });
    expect(await s.agent.emitWithAck('cobrowse:start', { chatId: chat['chatId'] })).toEqual({
      ok: false,
      error: 'the visitor page is not running the cobrowse script',
    });
  });

  it('jsonDepth counts nesting iteratively and stops past the limit', () => {
    expect(jsonDepth(1, 10)).toBe(0);
    expect(jsonDepth({ a: [1, { b: 2 }] }, 10)).toBe(3);
    let v: unknown = 0;
    for (let i = 0; i < 100_000; i++) v = [v];
    expect(jsonDepth(v, 50)).toBe(51);
  });
});
