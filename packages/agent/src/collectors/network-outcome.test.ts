import { describe, expect, it } from 'vitest';
import type { Protocol } from 'puppeteer-core';
import { StepError } from '@userprobe/shared';
import { requestOutcome, serverWaitFromTiming, type RequestRecord } from './network.js';
import { compilePattern, matchesPattern, redactUrl } from './request-pattern.js';

const timing = (t: Partial<Protocol.Network.ResourceTiming>): Protocol.Network.ResourceTiming => ({
  requestTime: 1,
  proxyStart: -1,
  proxyEnd: -1,
  dnsStart: -1,
  dnsEnd: -1,
  connectStart: -1,
  connectEnd: -1,
  sslStart: -1,
  sslEnd: -1,
  workerStart: -1,
  workerReady: -1,
  workerFetchStart: -1,
  workerRespondWithSettled: -1,
  sendStart: 0.5,
  sendEnd: 1,
  pushStart: 0,
  pushEnd: 0,
  receiveHeadersStart: 301,
  receiveHeadersEnd: 302,
  ...t,
});

describe('serverWaitFromTiming', () => {
  it.each([
    ['headers start − send end', timing({}), 300],
    ['falls back to headers end when start is absent', timing({ receiveHeadersStart: 0 }), 301],
    ['unknown without send end', timing({ sendEnd: -1 }), undefined],
    ['unknown without timing', undefined, undefined],
  ] as const)('%s', (_n, t, expected) => {
    expect(serverWaitFromTiming(t)).toBe(expected);
  });
});

const rec = (r: Partial<RequestRecord>): RequestRecord => ({
  key: 's:1',
  requestId: '1',
  sessionId: 's',
  targetType: 'iframe',
  frameId: 'f',
  url: 'http://a/api/x?secret=1',
  finalUrl: 'http://a/api/x?secret=1',
  method: 'POST',
  resourceType: 'Fetch',
  sentAt: 10,
  redirects: 0,
  matches: ['create'],
  ...r,
});

describe('requestOutcome', () => {
  it('is pending until the body finished', () => {
    expect(requestOutcome(undefined, 'create', 's').kind).toBe('pending');
    expect(requestOutcome(rec({ status: 200, responseAt: 10.2 }), 'create', 's').kind).toBe('pending');
  });
  it('times requestWillBeSent → loadingFinished in ms, URL without query', () => {
    const o = requestOutcome(rec({ status: 201, finishedAt: 10.3005, serverWaitMs: 299 }), 'create', 's');
    expect(o.kind).toBe('ok');
    if (o.kind !== 'ok') return;
    expect(o.timing.durationMs).toBeCloseTo(300.5, 6);
    expect(o.timing).toMatchObject({ status: 201, serverWaitMs: 299, url: 'http://a/api/x' });
  });
  it.each([
    ['HTTP error status', rec({ status: 503, finishedAt: 11 }), /'create'.*HTTP 503/, 503],
    ['network failure', rec({ failedAt: 11, errorText: 'net::ERR_CONNECTION_RESET' }), /'create'.*failed: net::ERR_CONNECTION_RESET/, undefined],
  ] as const)('%s is a StepError naming the pattern', (_n, r, msg, status) => {
    const o = requestOutcome(r, 'create', 'api_create');
    expect(o.kind).toBe('error');
    if (o.kind !== 'error') return;
    expect(o.error).toBeInstanceOf(StepError);
    expect(o.error.step).toBe('api_create');
    expect(o.error.message).toMatch(msg);
    expect(o.error.message).not.toContain('secret');
    expect(o.error.detail).toMatchObject({ pattern: 'create', status });
  });
});

describe('request patterns', () => {
  it.each([
    [{ url: '/api/chats(\\?|$)', method: 'POST' as const }, 'http://h/api/chats', 'POST', true],
    [{ url: '/api/chats(\\?|$)', method: 'POST' as const }, 'http://h/api/chats', 'OPTIONS', false],
    [{ url: '/api/chats(\\?|$)', method: 'POST' as const }, 'http://h/api/chats/1/messages', 'POST', false],
    [{ url: '/api/widget/init' }, 'http://h/api/widget/init?x=1', 'GET', true],
  ])('%j ~ %s %s → %s', (p, url, method, expected) => {
    expect(matchesPattern(compilePattern('p', p), url, method)).toBe(expected);
  });
  it('redacts query and credentials', () => {
    expect(redactUrl('http://u:p@h:1/a/b?token=x#f')).toBe('http://h:1/a/b');
    expect(redactUrl('not a url?x')).toBe('not a url');
  });
});
