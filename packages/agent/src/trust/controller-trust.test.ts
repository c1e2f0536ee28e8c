import { describe, expect, it } from 'vitest';
import { certificateFailure, controllerUrlProblem, isLoopbackHostname } from './controller-trust.js';

describe('controller trust (pure)', () => {
  it.each([
    ['https://ctl.example.com:7077', false, null],
    ['https://10.0.0.5:7077', false, null],
    ['http://127.0.0.1:7077', false, null],
    ['http://127.9.9.9:7077', false, null],
    ['http://localhost:7077', false, null],
    ['http://[::1]:7077', false, null],
    ['http://10.0.0.5:7077', false, /is plain HTTP to a host that is not loopback: this agent's token and every batch would cross the network readable/],
    ['http://10.0.0.5:7077', true, null],
    ['http://ctl.example.com:7077', false, /--allow-plain-http/],
    ['ws://127.0.0.1:7077', true, /ws: is not accepted/],
    ['ctl:7077', false, /ctl: is not accepted/],
    ['nope', false, /is not an absolute URL/],
  ] as const)('%s (allow plain: %s)', (url, allow, want) => {
    const got = controllerUrlProblem(url, allow);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });

  it('loopback names', () => {
    expect(['127.0.0.1', 'localhost', 'LOCALHOST.', '[::1]'].map(isLoopbackHostname)).toEqual([true, true, true, true]);
    expect(['128.0.0.1', '0.0.0.0', '[::]', 'localhost.example.com'].map(isLoopbackHostname)).toEqual([false, false, false, false]);
  });

  it('finds a certificate failure through the socket.io → engine.io → ws → tls chain, and only that', () => {
    const tls = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    const transport = Object.assign(new Error('websocket error'), { type: 'TransportError', description: { error: tls, message: tls.message } });
    expect(certificateFailure(transport)).toEqual({ code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed certificate in certificate chain' });
    const refused = Object.assign(new Error('websocket error'), {
      description: { error: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) },
    });
    expect(certificateFailure(refused)).toBeNull();
    const loop: Record<string, unknown> = {};
    loop['cause'] = loop;
    expect(certificateFailure(loop)).toBeNull();
  });
});
