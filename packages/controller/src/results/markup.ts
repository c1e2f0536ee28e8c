/** Text for HTML and XML files the controller writes (JUnit, report.html, the comparison page). */
// Characters XML 1.0 cannot hold: controls other than tab, LF and CR, lone surrogates, U+FFFE/U+FFFF.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const XML_INVALID = /[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/** Text for an XML attribute or element: escaped, characters XML 1.0 cannot hold dropped. Pure. */
export function xmlText(s: string): string {
  return s.replace(XML_INVALID, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
