import { describe, expect, it } from 'vitest';
import { failureCard, showsNothing } from './session-evidence.js';

describe('the card in place of a page that never loaded', () => {
  it.each([
    ['about:blank', true],
    ['', true],
    ['chrome-error://chromewebdata/', true],
    ['http://127.0.0.1:4310/', false],
    ['https://chat.example.com/about:blank', false],
  ])('showsNothing(%j) is %s', (url, want) => {
    expect(showsNothing(url)).toBe(want);
  });

  it('says which page, what it showed, the failed step and its message, escaped', () => {
    const html = failureCard('visitor', 'a blank page', {
      step: 'page_load',
      message: 'cannot load http://127.0.0.1:1/shop: net::ERR_CONNECTION_REFUSED <script>',
    });
    expect(html).toContain('the visitor page shows nothing of the target (a blank page)');
    expect(html).toContain('The session failed at step page_load:');
    expect(html).toContain('net::ERR_CONNECTION_REFUSED &#60;script&#62;');
    expect(html).not.toContain('<script>');
    expect(failureCard('agent', "the browser's error page", undefined)).toContain('The session failed.');
  });
});
