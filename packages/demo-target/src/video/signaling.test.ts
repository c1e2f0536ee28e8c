import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { doseResponse, expectVerdicts } from '@userprobe/testkit';
import type { Socket } from 'socket.io-client';
import { useRealtimeFixture, once, connected } from '../../test/realtime-fixture.js';
import { SIGNAL_SOCKET_PATH } from './signaling.js';

/*
 * The signaling server over real Socket.IO on loopback (no browser): auth,
 * the invite → accept → offer/answer/candidate relay, the `signaling` delay on
 * every relayed message (a dose response measured from Node, @userprobe/testkit),
 * the `ice` filter, and bad payloads answered with what is accepted.
 */

const D = 150;

const fx = useRealtimeFixture(SIGNAL_SOCKET_PATH);
const { connect, post } = fx;

/** A chat, its visitor and an agent, both connected to signaling. */
async function parties(): Promise<{ chatId: string; visitor: Socket; agent: Socket }> {
  const chat = await post('/api/chats', { name: 'v' });
  const { token } = await post('/api/agent/login', { username: 'agent', password: 'demo' });
  const agent = connect({ role: 'agent', token: token! });
  await connected(agent);
  const presence = once<{ chatId: string; online: boolean }>(agent, 'call:presence');
  const visitor = connect({ role: 'visitor', chatId: chat['chatId']!, visitorToken: chat['visitorToken']! });
  await connected(visitor);
  expect(await presence).toEqual({ chatId: chat['chatId'], online: true });
  return { chatId: chat['chatId']!, visitor, agent };
}

async function startCall(p: { chatId: string; visitor: Socket; agent: Socket }): Promise<string> {
  const invited = once<{ callId: string }>(p.visitor, 'call:invite');
  expect(await p.agent.emitWithAck('call:invite', { chatId: p.chatId })).toMatchObject({ ok: true });
  const callId = (await invited).callId;
  const accepted = once(p.agent, 'call:accepted');
  expect(await p.visitor.emitWithAck('call:accept', { callId })).toMatchObject({ ok: true });
  await accepted;
  return callId;
}

describe('video signaling server', () => {
  it('refuses a handshake without valid auth, saying what is accepted', async () => {
    const s = connect({ role: 'visitor', chatId: 'nope', visitorToken: 'x' });
    await expect(connected(s)).rejects.toThrow('unknown chat or wrong visitorToken');
    const t = connect({ role: 'robot' });
    await expect(connected(t)).rejects.toThrow(/bad auth: .*send \{role:'visitor', chatId, visitorToken\} or \{role:'agent', token\}/);
  });

  it('relays invite, accept, offer, answer and candidates between the two parties', async () => {
    const p = await parties();
    const callId = await startCall(p);
    const offer = once<Record<string, unknown>>(p.visitor, 'call:signal');
    await p.agent.emitWithAck('call:signal', { callId, description: { type: 'offer', sdp: 'v=0\r\n' } });
    expect(await offer).toEqual({ callId, description: { type: 'offer', sdp: 'v=0\r\n' } });
    const cand = once<Record<string, unknown>>(p.agent, 'call:signal');
    const c = { candidate: 'candidate:1 1 udp 1 198.18.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' };
    expect(await p.visitor.emitWithAck('call:signal', { callId, candidate: c })).toEqual({ ok: true, data: { relayed: true } });
    expect(await cand).toEqual({ callId, candidate: c });
    const ended = once<{ reason: string }>(p.visitor, 'call:ended');
    await p.agent.emitWithAck('call:hangup', { callId });
    expect((await ended).reason).toBe('hangup');
  });

  it(`the signaling knob delays every relayed message by ${D} ms (handshake too)`, async () => {
    const p = await parties();
    let callId = '';
    const invite = await doseResponse({
      metric: `call:invite relay with signaling=${D}`,
      injectedMs: D,
      rounds: 3,
      measure: async (delay) => {
        fx.target().knobs.set({ latency: { signaling: delay } });
        const t0 = performance.now();
        const invited = once<{ callId: string }>(p.visitor, 'call:invite');
        await p.agent.emitWithAck('call:invite', { chatId: p.chatId });
        callId = (await invited).callId;
        const ms = performance.now() - t0;
        await p.agent.emitWithAck('call:hangup', { callId });
        return ms;
      },
    });
    const accept = await doseResponse({
      metric: `call:accepted relay with signaling=${D}`,
      injectedMs: D,
      rounds: 3,
      measure: async (delay) => {
        fx.target().knobs.set({ latency: { signaling: 0 } });
        const invited = once<{ callId: string }>(p.visitor, 'call:invite');
        await p.agent.emitWithAck('call:invite', { chatId: p.chatId });
        const id = (await invited).callId;
        fx.target().knobs.set({ latency: { signaling: delay } });
        const t0 = performance.now();
        const accepted = once(p.agent, 'call:accepted');
        await p.visitor.emitWithAck('call:accept', { callId: id });
        await accepted;
        const ms = performance.now() - t0;
        fx.target().knobs.set({ latency: { signaling: 0 } });
        await p.agent.emitWithAck('call:hangup', { callId: id });
        return ms;
      },
    });
    expectVerdicts('demo signaling knob, invite', invite.experiment, [invite.verdict]);
    expectVerdicts('demo signaling knob, accept', accept.experiment, [accept.verdict]);
    fx.target().knobs.set({ latency: { signaling: D } });
    const t0 = performance.now();
    const late = connect({ role: 'agent', token: (await post('/api/agent/login', { username: 'agent', password: 'demo' }))['token']! });
    await connected(late);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(D);
  });

  it('ice=drop relays no candidate and strips them from SDP, so ICE cannot complete', async () => {
    const p = await parties();
    const callId = await startCall(p);
    fx.target().knobs.set({ ice: 'drop' });
    const c = { candidate: 'candidate:1 1 udp 1 198.18.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    expect(await p.agent.emitWithAck('call:signal', { callId, candidate: c })).toEqual({ ok: true, data: { relayed: false } });
    const offer = once<{ description: { sdp: string } }>(p.visitor, 'call:signal');
    await p.agent.emitWithAck('call:signal', { callId, description: { type: 'offer', sdp: `v=0\r\na=${c.candidate}\r\na=mid:0\r\n` } });
    expect((await offer).description.sdp).toBe('v=0\r\na=mid:0\r\n');
  });

  it('answers bad or foreign payloads with an error naming what is accepted', async () => {
    const p = await parties();
    expect(await p.agent.emitWithAck('call:invite', { chat: 1 })).toMatchObject({ ok: false, error: expect.stringContaining('send {chatId}') });
    expect(await p.agent.emitWithAck('call:signal', { callId: 'x' })).toMatchObject({ ok: false, error: expect.stringContaining('bad call:signal') });
    expect(await p.visitor.emitWithAck('call:accept', { callId: 'no-such-call' })).toEqual({ ok: false, error: 'unknown or ended call no-such-call' });
    const other = await parties();
    const callId = await startCall(other);
    expect(await p.agent.emitWithAck('call:signal', { callId, candidate: { candidate: '' } })).toEqual({
      ok: false,
      error: `this socket is not a party to call ${callId}`,
    });
  });

  it('an invite to a chat whose visitor is not connected is refused', async () => {
    const chat = await post('/api/chats', { name: 'offline' });
    const { token } = await post('/api/agent/login', { username: 'agent', password: 'demo' });
    const agent = connect({ role: 'agent', token: token! });
    await connected(agent);
    expect(await agent.emitWithAck('call:invite', { chatId: chat['chatId'] })).toEqual({ ok: false, error: 'the visitor is not connected to signaling' });
  });
});
