import { describe, expect, it } from 'vitest';
import { HostPolicy, isInternalHost, neverAllowedReason, parseHostPattern, type UrlPlace } from './host-policy.js';

describe('host policy (pure)', () => {
  it.each([
    ['169.254.169.254', true],
    ['169.254.170.2', true],
    ['[fe80::1]', true],
    ['febf::1', true],
    ['fd00:ec2::254', true],
    ['100.100.100.200', true],
    ['metadata.google.internal', true],
    ['METADATA.GOOGLE.INTERNAL.', true],
    ['metadata', true],
    ['[::ffff:a9fe:a9fe]', true],
    ['::ffff:169.254.1.1', true],
    ['127.0.0.1', false],
    ['10.0.0.1', false],
    ['fec0::1', false],
    ['www.example.com', false],
    ['169.253.1.1', false],
  ])('never allowed: %s → %s', (host, never) => {
    expect(neverAllowedReason(host) !== null).toBe(never);
  });

  it.each([
    ['127.0.0.2', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['[::1]', true],
    ['::', true],
    ['fd12::1', true],
    ['localhost', true],
    ['a.localhost', true],
    ['8.8.8.8', false],
    ['www.example.com', false],
    ['2001:db8::1', false],
  ])('internal: %s → %s', (host, internal) => {
    expect(isInternalHost(host)).toBe(internal);
  });

  it.each(['*', 'https://x.com/', 'x.com:443', 'a b', '*.*.com', '169.254.169.254', '*.metadata.google.internal', ''])('refuses the pattern %j', (p) => {
    expect(() => parseHostPattern(p)).toThrow(/^--allow-host: /);
  });

  const policy = new HostPolicy(['www.example.com', '*.chat.example.com', '127.0.0.1', '::1']);
  const table: Array<[string, UrlPlace, RegExp | null]> = [
    ['https://www.example.com/shop?x=1', 'profile', null],
    ['https://WWW.EXAMPLE.COM./', 'main-frame', null],
    ['https://app.chat.example.com/console', 'main-frame', null],
    ['https://a.b.chat.example.com/', 'main-frame', null],
    ['https://chat.example.com/', 'main-frame', /host chat\.example\.com is not allowed .*--allow-host chat\.example\.com/],
    [
      'https://evil.example.net/',
      'main-frame',
      /host evil\.example\.net is not allowed on this agent \(allowed: www\.example\.com, \*\.chat\.example\.com, 127\.0\.0\.1, ::1\)/,
    ],
    ['http://127.0.0.1:8080/', 'main-frame', null],
    ['http://[::1]:8080/', 'main-frame', null],
    ['http://2130706433/', 'main-frame', null], // 127.0.0.1 written as a number: the URL parser normalizes it
    ['http://0xa9fea9fe/latest/meta-data/', 'main-frame', /169\.254\.169\.254 is a link-local address/],
    ['file:///etc/hostname', 'profile', /^file: URLs are never opened \(file:\/\/\/etc\/hostname\); this agent opens http: and https: only$/],
    ['file:///etc/hostname', 'main-frame', /file: URLs are never opened/],
    ['chrome://settings', 'main-frame', /chrome: URLs are never opened/],
    ['javascript:alert(document.cookie)', 'main-frame', /javascript: URLs are never opened/],
    ['view-source:https://www.example.com/', 'sub-frame', /view-source: URLs are never opened/],
    ['about:blank', 'main-frame', null],
    ['about:blank', 'profile', /about: URLs are never opened/],
    ['data:text/html,<p>x</p>', 'main-frame', null],
    ['data:text/html,<p>x</p>', 'profile', /data: URLs are never opened/],
    ['blob:https://www.example.com/0f3c', 'sub-frame', null],
    ['https://www.youtube.com/embed/x', 'sub-frame', null],
    ['https://www.youtube.com/embed/x', 'main-frame', /host www\.youtube\.com is not allowed/],
    ['http://10.0.0.7/admin', 'sub-frame', /host 10\.0\.0\.7 is not allowed/],
    ['http://localhost:9100/metrics', 'sub-frame', /host localhost is not allowed/],
    ['http://169.254.169.254/', 'sub-frame', /never opened/],
    ['not a url', 'profile', /is not an absolute URL/],
  ];
  it.each(table)('%s at %s', (url, place, want) => {
    const got = policy.urlProblem(url, place);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });

  it("a message never carries the URL's query (it may hold a token)", () => {
    expect(policy.urlProblem('https://evil.example.net/x?token=s3cr3t', 'main-frame')).not.toContain('s3cr3t');
    expect(policy.urlProblem('file:///x?token=s3cr3t', 'main-frame')).not.toContain('s3cr3t');
  });

  it.each([
    ['www.example.com', '93.184.216.34', 'main-frame', null],
    ['www.example.com', '169.254.169.254', 'main-frame', /resolved to 169\.254\.169\.254: .*never opened/],
    [
      'widget.vendor.example',
      '10.0.0.8',
      'sub-frame',
      /resolved to the internal address 10\.0\.0\.8; its operator allows it with --allow-host widget\.vendor\.example/,
    ],
    ['widget.vendor.example', '93.184.216.34', 'sub-frame', null],
    ['www.example.com', '10.0.0.8', 'sub-frame', null], // an allowed host may resolve anywhere but link-local
    ['www.example.com', '', 'main-frame', null],
  ] as const)('a document from %s at %s (%s)', (host, ip, place, want) => {
    const got = policy.addressProblem(host, ip, place);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });

  it('without --allow-host nothing is allowed, and the message says which flag to add', () => {
    expect(new HostPolicy([]).urlProblem('http://127.0.0.1:4001/', 'profile')).toBe(
      'host 127.0.0.1 is not allowed on this agent (allowed: none (no --allow-host)); its operator allows it with --allow-host 127.0.0.1',
    );
  });
});
