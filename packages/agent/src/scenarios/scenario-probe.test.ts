import { describe, expect, it } from 'vitest';
import { checkedPatterns } from './scenario-probe.js';

describe("probe.watch's patterns, checked as a profile's are (pure)", () => {
  it('fills the defaults: no sockets given, none watched; a socket is socket.io unless it says raw', () => {
    expect(checkedPatterns({ requests: { first: { url: '/api/init' } }, sockets: { crm: { url: '/crm/' } } })).toEqual({
      requests: { first: { url: '/api/init' } },
      sockets: { crm: { url: '/crm/', protocol: 'socket.io' } },
    });
    expect(checkedPatterns({})).toEqual({ requests: {}, sockets: {} });
  });

  it('names every problem at once, each with its path', () => {
    const e = (() => {
      try {
        checkedPatterns({ requests: { first: { url: '/api/(init' }, second: { url: '/x', verb: 'GET' } }, sockets: { crm: { url: '/crm/', protocol: 'ws' } } });
      } catch (err) {
        return err as Error;
      }
      return null;
    })();
    expect(e?.message).toMatch(/^probe\.watch: /);
    for (const path of ['requests.first.url', 'requests.second.verb', 'sockets.crm.protocol']) expect(e?.message).toContain(path);
  });
});
